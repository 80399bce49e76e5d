import { nativeAddon } from "./addon.js";

/** Checks a CPU set: a non-empty array of distinct integers >= 0. */
export function validateCpus(cpus: readonly number[], name = "cpus"): number[] {
  if (!Array.isArray(cpus)) throw new TypeError(`${name} must be an array of CPU numbers`);
  for (const c of cpus) {
    if (typeof c !== "number" || !Number.isInteger(c))
      throw new TypeError(`${name} must hold integers (got ${String(c)})`);
    if (c < 0) throw new RangeError(`${name} must hold CPU numbers >= 0 (got ${c})`);
  }
  if (cpus.length === 0) throw new RangeError(`${name} must name at least one CPU`);
  return [...new Set(cpus)].sort((a, b) => a - b);
}

/** sched_getaffinity: the CPUs a process (or thread, by tid) may run on. */
export function getAffinity(pid: number): number[] {
  if (!Number.isInteger(pid) || pid < 0)
    throw new RangeError(`pid must be a non-negative integer (got ${pid})`);
  return nativeAddon().getAffinity(pid);
}

/** sched_setaffinity for one process or thread; EINVAL if none of the CPUs is online. */
export function setAffinity(pid: number, cpus: readonly number[]): void {
  if (!Number.isInteger(pid) || pid < 0)
    throw new RangeError(`pid must be a non-negative integer (got ${pid})`);
  nativeAddon().setAffinity(pid, validateCpus(cpus));
}
