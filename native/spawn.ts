import { accessSync, constants as fs, statSync } from "node:fs";
import { join } from "node:path";
import { type NativeSpawnPlan, type NativeStdio, nativeAddon } from "./addon.js";
import { validateCpus } from "./affinity.js";
import type { Cgroup } from "./cgroup/group.js";
import { signalNumber, WatchedProcess } from "./child-process.js";
import {
  RLIMIT_NAMES,
  type Rlimit,
  type RlimitName,
  rlimitNumber,
  validateRlimit,
} from "./rlimit.js";
import { type SchedSettings, toNativeSched } from "./sched.js";
import { type ResolvedUser, resolveUser } from "./users.js";

/** Where a standard stream goes: Node's own, /dev/null, a pipe to us, or a file. */
export type StdioSpec = "inherit" | "ignore" | "pipe" | { file: string; append?: boolean };

export interface SpawnOptions {
  /** Program: a path, or a name looked up in the child's PATH (before fork). */
  command: string;
  args?: readonly string[];
  /** The child's whole environment (default: this process's). */
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  /** A user name or uid; sets uid, primary gid and supplementary groups from /etc/passwd and /etc/group. */
  user?: string | number;
  umask?: number;
  /** setsid(): the child leads a new session and process group. */
  newSession?: boolean;
  /** The group the child runs in from its first instruction. */
  cgroup?: Cgroup;
  sched?: SchedSettings;
  /** Nice value when `sched` is not given. */
  nice?: number;
  cpus?: readonly number[];
  rlimits?: Partial<Record<RlimitName, Rlimit>>;
  /** Signal the child gets when this process dies (PR_SET_PDEATHSIG). */
  parentDeathSignal?: NodeJS.Signals;
  /** stdin, stdout, stderr (default: all inherited). Files are opened by the caller, before the uid switch. */
  stdio?: readonly [StdioSpec, StdioSpec, StdioSpec];
  /** Let Node exit while the child runs. */
  unref?: boolean;
  /**
   * prctl(PR_SET_NO_NEW_PRIVS): execve can grant nothing more (setuid bits, file
   * capabilities are ignored); inherited by every descendant, never cleared.
   */
  noNewPrivs?: boolean;
  /**
   * A seccomp filter (`buildSeccompFilter`), installed last before execve and inherited
   * by every descendant. Without `noNewPrivs` the child needs CAP_SYS_ADMIN to install
   * it (else EACCES, syscall `seccomp`).
   */
  seccomp?: Uint8Array;
}

function nodeLikeError(
  code: string,
  errno: number,
  syscall: string,
  path: string,
  text: string,
): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${text}, ${syscall} '${path}'`), {
    code,
    errno,
    syscall,
    path,
  });
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, fs.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * execvp's lookup, done in the parent: a command with a `/` is used as given (relative
 * to the child's cwd, as execve resolves it), otherwise the first executable regular
 * file of that name in PATH. Throws ENOENT (syscall `execvp`) when none exists.
 */
export function resolveCommand(command: string, path = "/usr/local/bin:/usr/bin:/bin"): string {
  if (command.includes("/")) return command;
  for (const dir of path.split(":")) {
    const candidate = join(dir === "" ? "." : dir, command);
    if (isExecutableFile(candidate)) return candidate;
  }
  throw nodeLikeError("ENOENT", -2, "execvp", command, "no such file or directory in PATH");
}

function stdioToNative(spec: StdioSpec, index: number): NativeStdio {
  if (spec === "inherit" || spec === "ignore" || spec === "pipe") return spec;
  if (
    typeof spec === "object" &&
    spec !== null &&
    typeof spec.file === "string" &&
    spec.file !== ""
  ) {
    return { path: spec.file, append: spec.append === true };
  }
  throw new TypeError(`stdio[${index}] must be inherit, ignore, pipe or { file }`);
}

function checkInteger(name: string, v: number, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v))
    throw new TypeError(`${name} must be an integer`);
  if (v < min || v > max) throw new RangeError(`${name} ${v} is out of range (${min}..${max})`);
  return v;
}

/** Pure apart from the user and PATH lookups: the native plan, every argument checked. */
export function planSpawn(options: SpawnOptions): NativeSpawnPlan {
  if (typeof options !== "object" || options === null)
    throw new TypeError("spawn options must be an object");
  const { command, args = [] } = options;
  if (typeof command !== "string" || command === "")
    throw new TypeError("command must be a non-empty string");
  if (!Array.isArray(args) || args.some((a) => typeof a !== "string"))
    throw new TypeError("args must be strings");
  const envObject = options.env ?? process.env;
  const env = Object.entries(envObject)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  for (const s of [command, ...args, ...env]) {
    if (s.includes("\0")) throw new TypeError("command, args and env must not contain NUL bytes");
  }
  const plan: NativeSpawnPlan = {
    file: "",
    argv: [command, ...args],
    env,
    stdio: ["inherit", "inherit", "inherit"],
  };
  if (options.stdio !== undefined) {
    if (!Array.isArray(options.stdio) || options.stdio.length !== 3)
      throw new TypeError("stdio must be [stdin, stdout, stderr]");
    plan.stdio = options.stdio.map(stdioToNative) as NativeSpawnPlan["stdio"];
  }
  if (options.cwd !== undefined) {
    if (typeof options.cwd !== "string" || options.cwd === "")
      throw new TypeError("cwd must be a non-empty string");
    plan.cwd = options.cwd;
  }
  if (options.umask !== undefined) plan.umask = checkInteger("umask", options.umask, 0, 0o777);
  if (options.newSession) plan.setsid = true;
  if (options.sched !== undefined) {
    if (options.nice !== undefined) throw new TypeError("give nice inside sched when sched is set");
    plan.sched = toNativeSched(options.sched);
  } else if (options.nice !== undefined) {
    plan.nice = checkInteger("nice", options.nice, -20, 19);
  }
  if (options.cpus !== undefined) plan.cpus = validateCpus(options.cpus);
  if (options.rlimits !== undefined) {
    plan.rlimits = [];
    for (const [name, limit] of Object.entries(options.rlimits) as [
      RlimitName,
      Rlimit | undefined,
    ][]) {
      if (limit === undefined) continue;
      if (!RLIMIT_NAMES.includes(name)) throw new TypeError(`unknown rlimit '${name}'`);
      validateRlimit(name, limit);
      plan.rlimits.push({ resource: rlimitNumber(name), soft: limit.soft, hard: limit.hard });
    }
  }
  if (options.parentDeathSignal !== undefined)
    plan.pdeathsig = signalNumber(options.parentDeathSignal);
  if (options.noNewPrivs) plan.noNewPrivs = true;
  if (options.seccomp !== undefined) {
    const bytes = options.seccomp;
    if (!(bytes instanceof Uint8Array)) throw new TypeError("seccomp must be a Uint8Array");
    if (bytes.length === 0 || bytes.length % 8 !== 0 || bytes.length > 4096 * 8)
      throw new RangeError("seccomp must hold 1..4096 sock_filter instructions (8 bytes each)");
    plan.seccomp = bytes;
  }
  if (options.cgroup !== undefined) {
    const target = options.cgroup.spawnTarget();
    plan.cgroupProcs = target.cgroupProcs;
  }
  if (options.user !== undefined) {
    if (typeof options.user !== "string" && typeof options.user !== "number")
      throw new TypeError("user must be a name or a uid");
    const user: ResolvedUser = resolveUser(options.user);
    plan.uid = user.uid;
    plan.gid = user.gid;
    plan.groups = user.groups;
  }
  plan.file = resolveCommand(command, envObject.PATH ?? undefined);
  return plan;
}

/**
 * Starts a program with every attribute applied between fork and exec, in this order:
 * new session, cgroup, CPU affinity, scheduling, rlimits, groups/gid/uid, parent-death
 * signal, umask, cwd, stdio, no_new_privs, seccomp filter, execve. Throws (no child left
 * behind) when any step fails: an Error with the errno `code`, the failed `syscall` and,
 * for files, `path`.
 */
export function spawn(options: SpawnOptions): WatchedProcess {
  const plan = planSpawn(options);
  const started = nativeAddon().spawn(plan);
  return new WatchedProcess(started.pid, started.pidfd, {
    reap: true,
    unref: options.unref,
    stdin: started.stdin,
    stdout: started.stdout,
    stderr: started.stderr,
  });
}
