import { type Command, InvalidArgumentError } from "commander";
import { hasCode } from "../../common/errors.js";
import { renderTable } from "../../common/index.js";
import {
  type CpuListSyntaxError,
  formatCpuList,
  parseCpuList,
  readSystemInfo,
  type SystemInfo,
} from "../../native/index.js";
import {
  LATENCY_TEST_DEFAULTS,
  type LatencyReport,
  type LatencyTestAbortedError,
  runLatencyTest,
} from "../../realtime/index.js";
import { printState, withJsonOption } from "../output.js";
import type { CommandContext, RegisterCommand } from "../program.js";
import { UsageError } from "../usage-error.js";
import { registerRtAudit } from "./rt-audit.js";
import { registerRtVerify } from "./rt-verify.js";

/** Exit status after SIGINT, as shells report a command killed by it. */
const EXIT_INTERRUPTED = 130;

function integer(min: number, max: number) {
  return (text: string): number => {
    if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError("not a whole number.");
    const n = Number(text);
    if (n < min || n > max) throw new InvalidArgumentError(`must be in ${min}..${max}.`);
    return n;
  };
}

function cpuList(text: string): number[] {
  try {
    const cpus = parseCpuList(text);
    if (cpus.length === 0) throw new InvalidArgumentError("names no CPU.");
    return cpus;
  } catch (err) {
    if (hasCode<CpuListSyntaxError>(err, "E_CPU_LIST")) {
      throw new InvalidArgumentError(`${err.reason} (expected e.g. 0-3,8).`);
    }
    throw err;
  }
}

interface LatencyOptions {
  cpus?: number[];
  priority: number;
  interval: number;
  loops: number;
  histogram: number;
  json?: boolean;
}

const show = (v: number | null) => (v === null ? "-" : String(v));

function renderLatency(report: LatencyReport): string {
  const pmQos = report.pmQos === null ? "no PM QoS request" : `PM QoS ${report.pmQos} µs`;
  const head =
    `SCHED_FIFO ${report.priority}, interval ${report.interval} µs, ${report.loops} loops, ` +
    `${pmQos}, memory ${report.lockMemory ? "locked" : "not locked"}; latencies in µs`;
  const rows = [
    ["CPU", "samples", "min", "avg", "p50", "p99", "p99.9", "max", `>=${report.histogramMaxUs}`],
    ...report.cpus.map((c) => [
      String(c.cpu),
      String(c.samples),
      show(c.min),
      show(c.avg),
      show(c.p50),
      show(c.p99),
      show(c.p999),
      show(c.max),
      String(c.overflow),
    ]),
  ];
  return `${head}\n${renderTable(rows, { align: rows[0]?.map(() => "right" as const) })}`;
}

async function latency(context: CommandContext, options: LatencyOptions): Promise<void> {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once("SIGINT", onSigint);
  try {
    const report = await runLatencyTest({
      cpus: options.cpus,
      priority: options.priority,
      interval: options.interval,
      loops: options.loops,
      histogramMaxUs: options.histogram,
      signal: controller.signal,
    });
    printState(context.io, options, report, renderLatency);
  } catch (err) {
    if (hasCode(err, "E_CPU_NOT_ONLINE")) throw new UsageError(`--cpus: ${err.message}`);
    if (!hasCode<LatencyTestAbortedError>(err, "ABORT_ERR")) throw err;
    printState(context.io, options, err.partial, renderLatency);
    const samples = err.partial.cpus.map((c) => c.samples);
    context.io.stderr.write(
      `outpost: latency test interrupted after ${Math.min(...samples)} of ${err.partial.loops} loops; partial results above\n`,
    );
    process.exitCode = EXIT_INTERRUPTED;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

const yesNo = (v: boolean | null, missing: string) => (v === null ? missing : v ? "yes" : "no");

function renderInfo(info: SystemInfo): string {
  const { preemptRt: rt, cpus } = info;
  const signals = [
    `/sys/kernel/realtime: ${yesNo(rt.signals.sysKernelRealtime, "missing")}`,
    `uname -v: ${yesNo(rt.signals.unameVersion, "missing")}`,
    `CONFIG_PREEMPT_RT: ${yesNo(rt.signals.kernelConfig, "no config found")}${rt.kernelConfigSource ? ` (${rt.kernelConfigSource})` : ""}`,
  ].join(", ");
  const list = (l: readonly number[]) => (l.length === 0 ? "none" : formatCpuList(l));
  const threads = cpus.cores.reduce((n, core) => n + core.cpus.length, 0);
  const params = Object.entries(info.kernelCmdline).map(([k, v]) => (v === true ? k : `${k}=${v}`));
  const rows: [string, string][] = [
    ["kernel", `${info.kernel.release} ${info.kernel.machine} (${info.kernel.version})`],
    ["PREEMPT_RT", `${rt.verdict ? "yes" : "no"} — ${signals}`],
    ["cgroups", info.cgroupMode ?? "not mounted"],
    ["online CPUs", list(cpus.online)],
    ["isolated CPUs", list(cpus.isolated)],
    ["nohz_full", cpus.nohzFull === null ? "not supported by this kernel" : list(cpus.nohzFull)],
    [
      "topology",
      `${cpus.packages.length} package(s), ${cpus.cores.length} core(s), ${threads} thread(s)` +
        `${cpus.smt ? " with SMT" : ", no SMT"}, ${cpus.nodes.length} NUMA node(s)`,
    ],
    ["cores", cpus.cores.map((core) => formatCpuList(core.cpus)).join(" | ")],
    ["NUMA nodes", cpus.nodes.map((n) => `${n.id}: ${list(n.cpus)}`).join(" | ") || "none"],
    ["RT boot params", params.length === 0 ? "none" : params.join(" ")],
  ];
  return renderTable(rows);
}

export const registerRt: RegisterCommand = (program: Command, context: CommandContext) => {
  const rt = program
    .command("rt")
    .description(
      "real-time: wake-up latency test, what this box offers RT workloads, audit, proof of an RT instance",
    );

  withJsonOption(
    rt
      .command("latency")
      .description(
        "measure timer wake-up latency per CPU like cyclictest (one pinned SCHED_FIFO thread per CPU)",
      )
      .option(
        "--cpus <list>",
        "CPUs to measure, e.g. 2-3 (default: the isolated CPUs, else every online CPU)",
        cpuList,
      )
      .option(
        "--priority <prio>",
        "SCHED_FIFO priority of the probe threads, 1..99",
        integer(1, 99),
        LATENCY_TEST_DEFAULTS.priority,
      )
      .option(
        "--interval <us>",
        "µs between wake-ups",
        integer(1, 3_600_000_000),
        LATENCY_TEST_DEFAULTS.interval,
      )
      .option(
        "--loops <n>",
        "wake-ups per CPU",
        integer(1, Number.MAX_SAFE_INTEGER),
        LATENCY_TEST_DEFAULTS.loops,
      )
      .option(
        "--histogram <us>",
        "histogram range in µs; longer latencies are counted as overflow",
        integer(1, 1_000_000),
        LATENCY_TEST_DEFAULTS.histogramMaxUs,
      ),
  ).action((options: LatencyOptions) => latency(context, options));

  withJsonOption(
    rt
      .command("info")
      .description(
        "kernel, PREEMPT_RT (each signal and the verdict), cgroup mode, CPUs, topology, RT boot parameters",
      ),
  ).action((options: { json?: boolean }) => {
    printState(context.io, options, readSystemInfo(), renderInfo);
  });

  registerRtAudit(rt, context);
  registerRtVerify(rt, context);
};
