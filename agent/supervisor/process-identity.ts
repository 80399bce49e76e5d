import { readFileSync } from "node:fs";

/**
 * A pid plus the kernel's start time of that process (clock ticks since boot, field 22 of
 * /proc/<pid>/stat): together they name one process, even after the pid is reused.
 */
export interface ProcessIdentity {
  pid: number;
  startTicks: number;
}

/** Pure: field 22 of a /proc/<pid>/stat line (the command may contain spaces and parens). */
export function startTicksOf(statLine: string): number {
  const afterComm = statLine.slice(statLine.lastIndexOf(")") + 2).split(" ");
  // Fields after comm start at field 3 (state); starttime is field 22.
  const value = Number(afterComm[22 - 3]);
  if (!Number.isSafeInteger(value)) throw new Error(`no start time in '${statLine.slice(0, 80)}'`);
  return value;
}

/** The identity of a running process; undefined when it no longer exists. */
export function identityOf(pid: number): ProcessIdentity | undefined {
  try {
    return { pid, startTicks: startTicksOf(readFileSync(`/proc/${pid}/stat`, "utf8")) };
  } catch {
    return undefined;
  }
}

/** Whether the process `identity` names still runs (and is not a zombie). */
export function isAlive(identity: ProcessIdentity): boolean {
  try {
    const stat = readFileSync(`/proc/${identity.pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && startTicksOf(stat) === identity.startTicks;
  } catch {
    return false;
  }
}
