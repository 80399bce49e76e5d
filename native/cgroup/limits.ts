/**
 * Resource settings of a cgroup. An absent key leaves the setting as it is; `null`
 * removes a limit.
 */
export interface CgroupLimits {
  /** CPU bandwidth in cores (0.5 = half a core), enforced per 100 ms period. */
  cpuCores?: number | null;
  /** Relative CPU weight, 1..10000 (v2 `cpu.weight`; v1 `cpu.shares` mapped from it). */
  cpuWeight?: number;
  /** Memory limit in bytes; past it the kernel reclaims, then OOM-kills inside the group. */
  memoryMax?: number | null;
  /** Maximum number of tasks (processes and threads). */
  pidsMax?: number | null;
  /** cpuset CPUs. */
  cpus?: readonly number[];
  /** cpuset memory nodes. */
  mems?: readonly number[];
  /**
   * v2 `cpuset.cpus.partition`; on v1 `root` sets `cpuset.cpu_exclusive`, `isolated`
   * also clears `cpuset.sched_load_balance`, `member` undoes both.
   */
  partition?: "root" | "isolated" | "member";
  /** v1 only: `cpu.rt_runtime_us`, the RT time the group's SCHED_FIFO/RR tasks may use per period. */
  rtRuntimeUs?: number;
}

function check(ok: boolean, make: () => Error): void {
  if (!ok) throw make();
}

function isCpuList(v: unknown): boolean {
  return Array.isArray(v) && v.every((c) => Number.isInteger(c) && c >= 0);
}

/** Rejects bad values (TypeError for the wrong kind, RangeError out of range) before any write. */
export function validateLimits(limits: CgroupLimits): void {
  const { cpuCores, cpuWeight, memoryMax, pidsMax, cpus, mems, partition, rtRuntimeUs } = limits;
  if (cpuCores !== undefined && cpuCores !== null) {
    check(typeof cpuCores === "number", () => new TypeError("cpuCores must be a number"));
    check(
      cpuCores >= 0.01 && Number.isFinite(cpuCores),
      () => new RangeError(`cpuCores must be >= 0.01 (got ${cpuCores})`),
    );
  }
  if (cpuWeight !== undefined) {
    check(Number.isInteger(cpuWeight), () => new TypeError("cpuWeight must be an integer"));
    check(
      cpuWeight >= 1 && cpuWeight <= 10_000,
      () => new RangeError(`cpuWeight must be 1..10000 (got ${cpuWeight})`),
    );
  }
  for (const [name, v] of [
    ["memoryMax", memoryMax],
    ["pidsMax", pidsMax],
  ] as const) {
    if (v === undefined || v === null) continue;
    check(Number.isSafeInteger(v), () => new TypeError(`${name} must be an integer`));
    check(v >= 1, () => new RangeError(`${name} must be >= 1 (got ${v})`));
  }
  check(
    cpus === undefined || isCpuList(cpus),
    () => new TypeError("cpus must be CPU numbers >= 0"),
  );
  check(
    mems === undefined || isCpuList(mems),
    () => new TypeError("mems must be node numbers >= 0"),
  );
  check(
    partition === undefined || ["root", "isolated", "member"].includes(partition),
    () => new TypeError(`partition must be root, isolated or member (got ${String(partition)})`),
  );
  if (rtRuntimeUs !== undefined) {
    check(Number.isInteger(rtRuntimeUs), () => new TypeError("rtRuntimeUs must be an integer"));
    check(rtRuntimeUs >= 0, () => new RangeError(`rtRuntimeUs must be >= 0 (got ${rtRuntimeUs})`));
  }
}
