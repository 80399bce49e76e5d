import { readFileSync, writeFileSync } from "node:fs";
import { constants } from "node:os";
import { type Command, InvalidArgumentError } from "commander";
import { hasCode } from "../../common/errors.js";
import {
  Cgroup,
  type CgroupLimits,
  type CpuListSyntaxError,
  type ExitStatus,
  getRlimit,
  isNativeSystemError,
  parseCpuList,
  parseSchedSpec,
  parseSize,
  priorityRange,
  type ResolvedUser,
  type Rlimit,
  resolveUser,
  type SchedSettings,
  type SpawnOptions,
  spawn,
  type WatchedProcess,
} from "../../native/index.js";
import type { CommandContext, RegisterCommand } from "../program.js";
import { UsageError } from "../usage-error.js";

/** What a shell reports when a command cannot be executed. */
export const EXIT_CANNOT_EXECUTE = 127;

/** Signals `outpost exec` passes on to CMD instead of dying from them. */
const FORWARDED: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

interface ExecOptions {
  cpus?: number[];
  sched?: SchedSettings;
  nice?: number;
  cpuQuota?: number;
  memory?: number;
  pids?: number;
  user?: string;
  mlock?: boolean;
  report?: string;
}

/** The `--report FILE` document. */
export interface ExecReport {
  command: string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  cpuUsageUs: number | null;
  memoryPeakBytes: number | null;
  oomKills: number | null;
  cgroup: string;
}

function cpuList(text: string): number[] {
  try {
    const cpus = parseCpuList(text);
    if (cpus.length === 0) throw new InvalidArgumentError("names no CPU.");
    return cpus;
  } catch (err) {
    if (hasCode<CpuListSyntaxError>(err, "E_CPU_LIST"))
      throw new InvalidArgumentError(`${err.reason} (expected e.g. 0-3,8).`);
    throw err;
  }
}

function schedSpec(text: string): SchedSettings {
  try {
    const sched = parseSchedSpec(text);
    if (sched.priority !== undefined) {
      const { min, max } = priorityRange(sched.policy);
      if (sched.priority < min || sched.priority > max) {
        throw new InvalidArgumentError(
          `priority ${sched.priority} is out of range for ${sched.policy} (${min}..${max}).`,
        );
      }
    }
    return sched;
  } catch (err) {
    if (err instanceof TypeError) throw new InvalidArgumentError(`${err.message}.`);
    throw err;
  }
}

function integerIn(min: number, max: number) {
  return (text: string): number => {
    if (!/^-?\d+$/.test(text.trim())) throw new InvalidArgumentError("not a whole number.");
    const n = Number(text);
    if (n < min || n > max) throw new InvalidArgumentError(`must be in ${min}..${max}.`);
    return n;
  };
}

function cores(text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0.01)
    throw new InvalidArgumentError("must be a number of cores >= 0.01 (e.g. 0.5).");
  return n;
}

function size(text: string): number {
  const bytes = parseSize(text);
  if (bytes === undefined || bytes < 1)
    throw new InvalidArgumentError("must be a size such as 64M, 1G or 1048576.");
  return bytes;
}

function limitsOf(options: ExecOptions, parent: Cgroup): CgroupLimits {
  const limits: CgroupLimits = {};
  if (options.cpuQuota !== undefined) limits.cpuCores = options.cpuQuota;
  if (options.memory !== undefined) limits.memoryMax = options.memory;
  if (options.pids !== undefined) limits.pidsMax = options.pids;
  if (options.cpus !== undefined) limits.cpus = options.cpus;
  const policy = options.sched?.policy;
  if (policy === "fifo" || policy === "rr") {
    // A v1 cpu group starts with no RT runtime, and SCHED_FIFO/RR is then refused in
    // it: hand it what the parent has left.
    const free = parent.freeRtRuntimeUs();
    if (free === 0) {
      throw new Error(
        `no real-time runtime left under ${parent.dirs.v1.cpu}: its child groups hold all of cpu.rt_runtime_us`,
      );
    }
    if (free !== undefined) limits.rtRuntimeUs = free;
  }
  return limits;
}

function spawnOptions(
  command: string,
  args: string[],
  options: ExecOptions,
  cgroup: Cgroup,
  user?: ResolvedUser,
): SpawnOptions {
  const spawnOpts: SpawnOptions = { command, args, cgroup, parentDeathSignal: "SIGKILL" };
  if (options.cpus !== undefined) spawnOpts.cpus = options.cpus;
  if (options.sched !== undefined) {
    spawnOpts.sched =
      options.nice === undefined ? options.sched : { ...options.sched, nice: options.nice };
  } else if (options.nice !== undefined) {
    spawnOpts.nice = options.nice;
  }
  if (user !== undefined) spawnOpts.user = user.uid;
  if (options.mlock) spawnOpts.rlimits = { memlock: memlockLimit() };
  return spawnOpts;
}

const CAP_SYS_RESOURCE = 24n;

/**
 * `--mlock`: unlimited when we may raise hard limits (CAP_SYS_RESOURCE), otherwise the
 * most we can give, our own hard limit. mlockall itself cannot be done for CMD: the
 * kernel drops memory locks at execve.
 */
function memlockLimit(): Rlimit {
  const capEff =
    /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? "0";
  if ((BigInt(`0x${capEff}`) >> CAP_SYS_RESOURCE) & 1n) {
    return { soft: Number.POSITIVE_INFINITY, hard: Number.POSITIVE_INFINITY };
  }
  const { hard } = getRlimit(process.pid, "memlock");
  return { soft: hard, hard };
}

function exitCodeOf(status: ExitStatus): number {
  if (status.code !== null) return status.code;
  return 128 + (status.signal === null ? 0 : constants.signals[status.signal]);
}

async function runExec(
  command: string,
  args: string[],
  options: ExecOptions,
  context: CommandContext,
): Promise<number> {
  let user: ResolvedUser | undefined;
  if (options.user !== undefined) {
    try {
      user = resolveUser(options.user);
    } catch (err) {
      if (hasCode(err, "E_UNKNOWN_USER") || err instanceof RangeError)
        throw new UsageError(`--user: ${err.message}`);
      throw err;
    }
  }
  if (
    options.nice !== undefined &&
    options.sched !== undefined &&
    !["other", "batch"].includes(options.sched.policy)
  ) {
    throw new UsageError(
      `--nice applies to the other and batch policies, not ${options.sched.policy}`,
    );
  }
  const logger = context.logger().child({ component: "exec" });
  const parent = Cgroup.own();
  const cgroup = parent.createChild(`outpost-exec-${process.pid}`, limitsOf(options, parent));
  let child: WatchedProcess | undefined;
  const forward = (signal: NodeJS.Signals) => child?.kill(signal);
  try {
    try {
      child = spawn(spawnOptions(command, args, options, cgroup, user));
    } catch (err) {
      if (!isNativeSystemError(err)) throw err;
      context.io.stderr.write(`outpost: cannot execute '${command}': ${err.message}\n`);
      return EXIT_CANNOT_EXECUTE;
    }
    for (const signal of FORWARDED) process.on(signal, forward);
    logger.debug({ event: "exec.started", pid: child.pid, cgroup: cgroup.path }, "exec.started");
    const status = await child.exited;
    const stats = cgroup.stats();
    logger.debug({ event: "exec.exited", ...status, ...stats }, "exec.exited");
    if (options.report !== undefined) {
      const report: ExecReport = {
        command: [command, ...args],
        exitCode: status.code,
        signal: status.signal,
        cpuUsageUs: stats.cpuUsageUs ?? null,
        memoryPeakBytes: stats.memoryPeak ?? null,
        oomKills: stats.oomKills ?? null,
        cgroup: cgroup.path,
      };
      writeFileSync(options.report, `${JSON.stringify(report, null, 2)}\n`);
    }
    return exitCodeOf(status);
  } finally {
    for (const signal of FORWARDED) process.off(signal, forward);
    await cgroup.remove();
  }
}

export const registerExec: RegisterCommand = (program: Command, context: CommandContext) => {
  program
    .command("exec")
    .description(
      "run CMD in a fresh cgroup with CPU, scheduling, memory and user settings applied before exec; exits with CMD's status (128+signal if killed, 127 if it cannot be executed)",
    )
    .usage("[options] -- CMD [ARGS...]")
    .argument("<cmd>", "program to run (looked up in PATH)")
    .argument("[args...]", "its arguments")
    .option("--cpus <list>", "CPU affinity and cpuset, e.g. 2-3", cpuList)
    .option(
      "--sched <policy[:prio]>",
      "scheduling policy: other, batch, idle, fifo:PRIO, rr:PRIO",
      schedSpec,
    )
    .option("--nice <n>", "nice value, -20..19 (other and batch)", integerIn(-20, 19))
    .option("--cpu-quota <cores>", "CPU bandwidth in cores, e.g. 0.5", cores)
    .option("--memory <size>", "memory limit, e.g. 256M (K/M/G powers of 1024)", size)
    .option("--pids <n>", "maximum number of tasks", integerIn(1, 4_194_304))
    .option("--user <name|uid>", "run as this user (its groups from /etc/group)")
    .option(
      "--mlock",
      "raise RLIMIT_MEMLOCK to unlimited so CMD can mlockall() itself (locks do not survive exec)",
    )
    .option(
      "--report <file>",
      "write a JSON usage summary (exit code, cpu µs, peak memory) to FILE",
    )
    .addHelpText("after", "\nPut -- before CMD when CMD takes options of its own.")
    .action(async (cmd: string, args: string[], options: ExecOptions) => {
      process.exitCode = await runExec(cmd, args, options, context);
    });
};
