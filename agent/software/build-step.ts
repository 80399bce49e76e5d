import { closeSync, openSync, readSync, statSync } from "node:fs";
import { type Cgroup, type ExitStatus, spawn } from "../../native/index.js";
import { partitionSandbox } from "../partitions/sandbox.js";

export interface BuildStepOptions {
  argv: readonly string[];
  cwd: string;
  /** Account the step runs as; absent in laptop mode (the invoking user). */
  user?: string;
  env: Record<string, string>;
  /** stdout and stderr are appended here. */
  logFile: string;
  timeoutMs: number;
  /** The install's build group: its kill takes every process the step started. */
  cgroup?: Cgroup;
  /** RLIMIT_NOFILE, soft and hard (default: the agent's own). */
  openFiles?: number;
}

/**
 * Runs one build command in its own session (and the install's build group); past
 * `timeoutMs` the whole group gets SIGKILL (a `make -j` leaves no orphan compiling on).
 * Resolves with how it ended.
 */
export async function runBuildStep(
  options: BuildStepOptions,
): Promise<ExitStatus & { timedOut: boolean }> {
  const [command, ...args] = options.argv as [string, ...string[]];
  const child = spawn({
    command,
    args,
    cwd: options.cwd,
    env: options.env,
    ...(options.user !== undefined ? { user: options.user } : {}),
    ...(options.cgroup ? { cgroup: options.cgroup } : {}),
    ...(options.openFiles !== undefined
      ? { rlimits: { nofile: { soft: options.openFiles, hard: options.openFiles } } }
      : {}),
    // What no partition may do, no build may either (the release's own extra denials
    // are for its instances: they do not apply here).
    ...partitionSandbox(),
    newSession: true,
    // A build does not outlive the agent: the next start begins it again from scratch.
    parentDeathSignal: "SIGKILL",
    umask: 0o022,
    stdio: [
      "ignore",
      { file: options.logFile, append: true },
      { file: options.logFile, append: true },
    ],
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (options.cgroup) {
      void options.cgroup.kill();
      return;
    }
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  }, options.timeoutMs);
  try {
    return { ...(await child.exited), timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/** The last `lines` lines of a log (reading at most its last 64 KiB). */
export function logTail(file: string, lines = 20): string {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return "";
  }
  try {
    const size = statSync(file).size;
    const length = Math.min(size, 65_536);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    return buf.toString("utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } finally {
    closeSync(fd);
  }
}
