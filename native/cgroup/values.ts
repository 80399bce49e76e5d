/** Pure conversions between Outpost's units and each cgroup version's file formats. */

/** The CFS period Outpost uses for quotas: the kernel's default, 100 ms. */
export const CPU_PERIOD_US = 100_000;

/** CPU time per period for a number of cores (0.5 → 50 000 µs every 100 000 µs). */
export function cpuQuotaUs(cores: number, periodUs = CPU_PERIOD_US): number {
  // The kernel refuses quotas under 1 ms.
  return Math.max(1000, Math.round(cores * periodUs));
}

/** v2 `cpu.max`: "QUOTA PERIOD", or "max PERIOD" for no limit. */
export function cpuMaxV2(cores: number | undefined, periodUs = CPU_PERIOD_US): string {
  return cores === undefined ? `max ${periodUs}` : `${cpuQuotaUs(cores, periodUs)} ${periodUs}`;
}

/** v1 `cpu.cfs_quota_us`: µs per period, -1 for no limit. */
export function cfsQuotaV1(cores: number | undefined, periodUs = CPU_PERIOD_US): string {
  return cores === undefined ? "-1" : String(cpuQuotaUs(cores, periodUs));
}

/**
 * v2 `cpu.weight` (1..10000, default 100) → v1 `cpu.shares` (2..262144, default 1024),
 * the mapping runc and systemd use in reverse.
 */
export function weightToShares(weight: number): number {
  return Math.min(262_144, Math.max(2, Math.round(2 + ((weight - 1) * 262_142) / 9999)));
}

/** `memory.max` / `pids.max` on v2: a number or "max". */
export function maxV2(value: number | undefined): string {
  return value === undefined ? "max" : String(value);
}

/** v1 `memory.limit_in_bytes` / `pids.max`: -1 / "max" for no limit. */
export function memoryLimitV1(bytes: number | undefined): string {
  return bytes === undefined ? "-1" : String(bytes);
}

/** Flat keyed files (`cpu.stat`, `memory.events`, `memory.oom_control`): "key value" lines. */
export function parseKeyedFile(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^-?\d+$/.test(value)) out.set(key, Number(value));
  }
  return out;
}

/** `cgroup.procs`: one pid per line. */
export function parsePids(text: string): number[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map(Number);
}

/** v2 `cpuset.cpus.partition` as read back: "root", "isolated", "member", or "root invalid (reason)". */
export interface PartitionState {
  type: "root" | "isolated" | "member";
  valid: boolean;
  reason?: string;
}

export function parsePartition(text: string): PartitionState {
  const m = /^(root|isolated|member)(?:\s+invalid(?:\s+\((.*)\))?)?$/.exec(text.trim());
  if (!m) throw new TypeError(`unexpected cpuset.cpus.partition value '${text.trim()}'`);
  const state: PartitionState = {
    type: m[1] as PartitionState["type"],
    valid: !/invalid/.test(text),
  };
  if (m[2] !== undefined) state.reason = m[2];
  return state;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(|k|m|g|t|ki|mi|gi|ti|kb|mb|gb|tb|b)$/i;
const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  ki: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mi: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gi: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  ti: 1024 ** 4,
  tb: 1000 ** 4,
};

/**
 * A memory size: bytes, or with a unit — K/M/G/T and Ki/Mi/Gi/Ti are powers of 1024
 * (as in `ulimit` and Kubernetes' Mi), KB/MB/GB/TB powers of 1000. Undefined if malformed.
 */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  const bytes = Math.floor(Number(m[1]) * (UNITS[(m[2] ?? "").toLowerCase()] as number));
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
