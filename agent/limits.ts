import type { CgroupLimits, Rlimit } from "../native/index.js";
import type { InstanceLimits } from "../protocol/index.js";

/**
 * What one kind of workload may use. `null` is no limit. Memory, tasks and CPU hold
 * for a whole group (an instance: every process and check of its partition together);
 * open files hold per process (RLIMIT_NOFILE, soft and hard).
 */
export interface WorkloadLimits {
  /** Bytes of memory, page cache included; past it the kernel reclaims, then OOM-kills in the group. */
  memory: number | null;
  /** Tasks (processes and threads). */
  pids: number | null;
  /** CPU bandwidth in cores. */
  cpu: number | null;
  openFiles: number;
}

/** A partition's limits: its workload's, and the space its files may take. */
export interface InstanceDefaultLimits extends WorkloadLimits {
  /** Bytes on the data filesystem, the partition's directory and its logs together. */
  disk: number | null;
}

/** The limits the agent holds every partition, build and command promise to. */
export interface AgentLimits {
  instance: InstanceDefaultLimits;
  build: WorkloadLimits;
  promise: WorkloadLimits;
}

/** An operator's settings (`--limit`, `limits:`): what is not given takes its default. */
export interface LimitSettings {
  instance?: Partial<InstanceDefaultLimits>;
  build?: Partial<WorkloadLimits>;
  promise?: Partial<WorkloadLimits>;
}

/** What the defaults are shares of. */
export interface MachineFacts {
  memoryBytes: number;
  cpus: number;
  /** Size of the filesystem holding the data directory, bytes. */
  diskBytes: number;
  partitions: number;
}

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
/** Below this a partition's share would not run a runtime like Node or Python. */
const MIN_SHARE = 64 * MiB;

function share(total: number, parts: number): number {
  return Math.max(MIN_SHARE, Math.floor(total / 2 / parts / MiB) * MiB);
}

/**
 * Pure: the defaults on a machine. Partitions together get at most half the memory and
 * half the data filesystem (each an equal share, at least 64 MiB), 512 tasks each, and
 * all cores but one (one spinning partition leaves a core's time to the agent and the
 * others). Builds keep their earlier limits (4096 tasks, half the memory up to 4 GiB).
 * A command promise is a short check: 256 MiB, 64 tasks, one core, 1024 files.
 */
export function defaultLimits(machine: MachineFacts): AgentLimits {
  const cores = Math.max(1, machine.cpus - 1);
  const partitions = Math.max(1, machine.partitions);
  return {
    instance: {
      memory: share(machine.memoryBytes, partitions),
      pids: 512,
      cpu: cores,
      openFiles: 4096,
      disk: share(machine.diskBytes, partitions),
    },
    build: {
      memory: Math.min(4 * GiB, Math.floor(machine.memoryBytes / 2)),
      pids: 4096,
      cpu: cores,
      openFiles: 65_536,
    },
    promise: { memory: 256 * MiB, pids: 64, cpu: 1, openFiles: 1024 },
  };
}

/** Pure: the operator's settings over the machine's defaults. */
export function resolveLimits(
  settings: LimitSettings | undefined,
  machine: MachineFacts,
): AgentLimits {
  const d = defaultLimits(machine);
  return {
    instance: { ...d.instance, ...settings?.instance },
    build: { ...d.build, ...settings?.build },
    promise: { ...d.promise, ...settings?.promise },
  };
}

/** The cgroup settings of `limits` (null removes a limit an earlier setting left). */
export function cgroupLimitsOf(limits: WorkloadLimits): CgroupLimits {
  return { memoryMax: limits.memory, pidsMax: limits.pids, cpuCores: limits.cpu };
}

/** RLIMIT_NOFILE for a process under `limits`: soft and hard, so it cannot raise it. */
export function openFilesRlimit(limits: Pick<WorkloadLimits, "openFiles">): Rlimit {
  return { soft: limits.openFiles, hard: limits.openFiles };
}

/**
 * A release's or a check's limits of one group below a partition, kept at or below the
 * partition's (the operator's ceiling: a release may ask less, never more). Returns what
 * applies and the keys that were lowered. The kernel would hold the partition's limits
 * anyway; capping also keeps v1, which refuses a child CPU quota above its parent's,
 * from failing the start.
 */
export function capToCeiling(
  wanted: CgroupLimits,
  ceiling: WorkloadLimits | undefined,
): { limits: CgroupLimits; capped: string[] } {
  const limits: CgroupLimits = { ...wanted };
  const capped: string[] = [];
  if (!ceiling) return { limits, capped };
  const pairs = [
    ["memoryMax", ceiling.memory],
    ["pidsMax", ceiling.pids],
    ["cpuCores", ceiling.cpu],
  ] as const;
  for (const [key, max] of pairs) {
    const v = limits[key];
    if (max === null || v === undefined || v === null || v <= max) continue;
    limits[key] = max;
    capped.push(key);
  }
  return { limits, capped };
}

/**
 * Pure: what the report says holds for an instance: the group limits where its
 * partition's group took them (not in laptop mode, not after a refused write), its
 * processes' open files, and its disk limit with how it holds.
 */
export function reportedLimits(
  limits: InstanceDefaultLimits,
  facts: { group: boolean; disk: "quota" | "measured" | "none"; diskBytes?: number },
): InstanceLimits {
  const out: InstanceLimits = { openFiles: limits.openFiles };
  if (facts.group) {
    if (limits.memory !== null) out.memoryBytes = limits.memory;
    if (limits.pids !== null) out.pids = limits.pids;
    if (limits.cpu !== null) out.cpu = limits.cpu;
  }
  if (facts.disk !== "none" && facts.diskBytes !== undefined) {
    out.diskBytes = facts.diskBytes;
    out.disk = facts.disk;
  }
  return out;
}
