import { readdirSync } from "node:fs";
import { type NativeAddon, type NativeSchedAttr, nativeAddon } from "./addon.js";

export const SCHED_POLICIES = ["other", "batch", "idle", "fifo", "rr", "deadline"] as const;
export type SchedPolicy = (typeof SCHED_POLICIES)[number];

/** A scheduling setting for a process or thread. */
export interface SchedSettings {
  policy: SchedPolicy;
  /** fifo/rr only: the kernel's range for the policy (1..99 on Linux). */
  priority?: number;
  /** other/batch only: -20 (most favoured) .. 19. */
  nice?: number;
  /** deadline only, in µs: CPU time per period, relative deadline (default period), period. */
  runtimeUs?: number;
  deadlineUs?: number;
  periodUs?: number;
  /** SCHED_RESET_ON_FORK: children of the process start back at SCHED_OTHER. */
  resetOnFork?: boolean;
}

const REALTIME: readonly SchedPolicy[] = ["fifo", "rr", "deadline"];

function policyNumber(addon: NativeAddon, policy: SchedPolicy): number {
  const c = addon.schedConstants;
  return {
    other: c.OTHER,
    batch: c.BATCH,
    idle: c.IDLE,
    fifo: c.FIFO,
    rr: c.RR,
    deadline: c.DEADLINE,
  }[policy];
}

function policyName(addon: NativeAddon, n: number): SchedPolicy {
  const found = SCHED_POLICIES.find((p) => policyNumber(addon, p) === n);
  if (!found) throw new RangeError(`unknown scheduling policy number ${n}`);
  return found;
}

/** The priority range of a policy (sched_get_priority_min/max). */
export function priorityRange(policy: SchedPolicy): { min: number; max: number } {
  if (!SCHED_POLICIES.includes(policy))
    throw new TypeError(`unknown scheduling policy '${String(policy)}'`);
  const addon = nativeAddon();
  return addon.schedPriorityRange(policyNumber(addon, policy));
}

function integer(name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v))
    throw new TypeError(`${name} must be an integer`);
  return v;
}

/**
 * Checks a setting and turns it into what sched_setattr takes. TypeError for a wrong
 * kind or an option the policy does not take, RangeError for a value out of range.
 */
export function toNativeSched(s: SchedSettings): NativeSchedAttr {
  if (typeof s !== "object" || s === null) throw new TypeError("sched must be an object");
  if (!SCHED_POLICIES.includes(s.policy)) {
    throw new TypeError(
      `unknown scheduling policy '${String(s.policy)}' (one of ${SCHED_POLICIES.join(", ")})`,
    );
  }
  const addon = nativeAddon();
  const attr: NativeSchedAttr = { policy: policyNumber(addon, s.policy) };
  if (s.resetOnFork) attr.flags = addon.schedConstants.RESET_ON_FORK;
  const { min, max } = addon.schedPriorityRange(attr.policy);
  const priority =
    s.priority === undefined
      ? s.policy === "fifo" || s.policy === "rr"
        ? min
        : 0
      : integer("priority", s.priority);
  if (priority < min || priority > max) {
    throw new RangeError(`priority ${priority} is out of range for ${s.policy} (${min}..${max})`);
  }
  attr.priority = priority;
  if (s.nice !== undefined) {
    if (s.policy !== "other" && s.policy !== "batch")
      throw new TypeError(`nice applies to other and batch, not ${s.policy}`);
    const nice = integer("nice", s.nice);
    if (nice < -20 || nice > 19) throw new RangeError(`nice ${nice} is out of range (-20..19)`);
    attr.nice = nice;
  }
  const dl = [s.runtimeUs, s.deadlineUs, s.periodUs];
  if (s.policy !== "deadline") {
    if (dl.some((v) => v !== undefined))
      throw new TypeError(`runtimeUs/deadlineUs/periodUs apply to deadline, not ${s.policy}`);
    return attr;
  }
  if (s.runtimeUs === undefined || s.deadlineUs === undefined)
    throw new TypeError("deadline needs runtimeUs and deadlineUs");
  const runtime = integer("runtimeUs", s.runtimeUs);
  const deadline = integer("deadlineUs", s.deadlineUs);
  const period = s.periodUs === undefined ? deadline : integer("periodUs", s.periodUs);
  // The kernel's own rule (__checkparam_dl): 1024 ns <= runtime <= deadline <= period.
  if (runtime * 1000 < 1024)
    throw new RangeError(`runtimeUs ${runtime} is below the kernel minimum (2 µs)`);
  if (runtime > deadline || deadline > period) {
    throw new RangeError(
      `deadline needs runtimeUs <= deadlineUs <= periodUs (got ${runtime}, ${deadline}, ${period})`,
    );
  }
  attr.runtime = runtime * 1000;
  attr.deadline = deadline * 1000;
  attr.period = period * 1000;
  return attr;
}

/**
 * Whether `pid` names this Node process or one of its threads. Node's own threads
 * never get a real-time policy: a SCHED_FIFO libuv or V8 thread can starve the box.
 */
function isOwnThread(pid: number): boolean {
  if (pid === 0 || pid === process.pid) return true;
  return readdirSync("/proc/self/task").includes(String(pid));
}

/** sched_setattr on a process or thread (a tid). */
export function setScheduler(pid: number, s: SchedSettings): void {
  if (!Number.isInteger(pid) || pid < 0)
    throw new RangeError(`pid must be a non-negative integer (got ${pid})`);
  const attr = toNativeSched(s);
  if (REALTIME.includes(s.policy) && isOwnThread(pid)) {
    throw new RangeError(
      `refusing a ${s.policy} policy for Node's own thread ${pid}: real-time settings are for children`,
    );
  }
  nativeAddon().schedSetAttr(pid, attr);
}

/** sched_getattr of a process or thread; 0 is the calling thread. */
export function getScheduler(pid: number): SchedSettings {
  if (!Number.isInteger(pid) || pid < 0)
    throw new RangeError(`pid must be a non-negative integer (got ${pid})`);
  const addon = nativeAddon();
  const a = addon.schedGetAttr(pid);
  const s: SchedSettings = { policy: policyName(addon, a.policy) };
  if (s.policy === "fifo" || s.policy === "rr") s.priority = a.priority;
  if (s.policy === "other" || s.policy === "batch") s.nice = a.nice;
  if (s.policy === "deadline") {
    s.runtimeUs = a.runtime / 1000;
    s.deadlineUs = a.deadline / 1000;
    s.periodUs = a.period / 1000;
  }
  if ((a.flags & addon.schedConstants.RESET_ON_FORK) !== 0) s.resetOnFork = true;
  return s;
}

/** Pure: `POLICY[:PRIO]` as the CLI takes it (`fifo:80`, `rr`, `batch`). Range is checked by toNativeSched. */
export function parseSchedSpec(spec: string): SchedSettings {
  const m = /^([a-z]+)(?::(-?\d+))?$/.exec(spec.trim().toLowerCase());
  const policy = m?.[1] as SchedPolicy | undefined;
  if (!m || !policy || !SCHED_POLICIES.includes(policy) || policy === "deadline") {
    throw new TypeError(
      `'${spec}' is not POLICY[:PRIORITY] with POLICY one of other, batch, idle, fifo, rr`,
    );
  }
  return m[2] === undefined ? { policy } : { policy, priority: Number(m[2]) };
}
