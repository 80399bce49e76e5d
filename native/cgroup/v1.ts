import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { formatCpuList } from "../cpu-list.js";
import { readControl, readControlIfPresent, writeControl } from "./control-file.js";
import { CgroupUnsupportedError } from "./errors.js";
import type { V1Controller } from "./layout.js";
import type { CgroupLimits } from "./limits.js";
import {
  CPU_PERIOD_US,
  cfsQuotaV1,
  memoryLimitV1,
  parseKeyedFile,
  weightToShares,
} from "./values.js";

/** cgroup v1 operations on a group's per-controller directories. */
type V1Dirs = Partial<Record<V1Controller, string>>;

function need(dirs: V1Dirs, controller: V1Controller, setting: string): string {
  const dir = dirs[controller];
  if (dir === undefined)
    throw new CgroupUnsupportedError(setting, `no v1 '${controller}' hierarchy is mounted`);
  return dir;
}

/**
 * A new v1 cpuset starts with no CPUs and no memory nodes, and no task can join it
 * until both are set: copy them from the parent.
 */
export function inheritCpusetV1(dir: string, parentDir: string): void {
  writeControl(dir, "cpuset.cpus", readControl(parentDir, "cpuset.cpus"));
  writeControl(dir, "cpuset.mems", readControl(parentDir, "cpuset.mems"));
}

export function applyLimitsV1(dirs: V1Dirs, limits: CgroupLimits): void {
  if (limits.cpus !== undefined)
    writeControl(need(dirs, "cpuset", "cpus"), "cpuset.cpus", formatCpuList(limits.cpus));
  if (limits.mems !== undefined)
    writeControl(need(dirs, "cpuset", "mems"), "cpuset.mems", formatCpuList(limits.mems));
  if (limits.partition !== undefined) {
    const dir = need(dirs, "cpuset", "partition");
    writeControl(dir, "cpuset.cpu_exclusive", limits.partition === "member" ? "0" : "1");
    writeControl(dir, "cpuset.sched_load_balance", limits.partition === "isolated" ? "0" : "1");
  }
  if (limits.cpuCores !== undefined) {
    const dir = need(dirs, "cpu", "cpuCores");
    writeControl(dir, "cpu.cfs_period_us", String(CPU_PERIOD_US));
    writeControl(dir, "cpu.cfs_quota_us", cfsQuotaV1(limits.cpuCores ?? undefined));
  }
  if (limits.cpuWeight !== undefined) {
    writeControl(
      need(dirs, "cpu", "cpuWeight"),
      "cpu.shares",
      String(weightToShares(limits.cpuWeight)),
    );
  }
  if (limits.rtRuntimeUs !== undefined) {
    const dir = need(dirs, "cpu", "rtRuntimeUs");
    if (!existsSync(join(dir, "cpu.rt_runtime_us"))) {
      throw new CgroupUnsupportedError(
        "rtRuntimeUs",
        "the kernel has no RT group scheduling (CONFIG_RT_GROUP_SCHED)",
      );
    }
    writeControl(dir, "cpu.rt_runtime_us", String(limits.rtRuntimeUs));
  }
  if (limits.memoryMax !== undefined) {
    writeControl(
      need(dirs, "memory", "memoryMax"),
      "memory.limit_in_bytes",
      memoryLimitV1(limits.memoryMax ?? undefined),
    );
  }
  if (limits.pidsMax !== undefined) {
    writeControl(
      need(dirs, "pids", "pidsMax"),
      "pids.max",
      limits.pidsMax === null ? "max" : String(limits.pidsMax),
    );
  }
}

/**
 * RT runtime still free below `parentDir` in the v1 cpu hierarchy: the parent's
 * `cpu.rt_runtime_us` minus what its child groups already hold (the kernel refuses a
 * total above the parent's). Undefined without RT group scheduling.
 */
export function freeRtRuntimeV1(parentDir: string): number | undefined {
  const own = readControlIfPresent(parentDir, "cpu.rt_runtime_us");
  if (own === undefined) return undefined;
  let used = 0;
  for (const entry of readdirSync(parentDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const child = readControlIfPresent(join(parentDir, entry.name), "cpu.rt_runtime_us");
    if (child !== undefined) used += Math.max(0, Number(child));
  }
  const total = Number(own);
  return total < 0 ? undefined : Math.max(0, total - used);
}

export function setFrozenV1(freezerDir: string, frozen: boolean): void {
  writeControl(freezerDir, "freezer.state", frozen ? "FROZEN" : "THAWED");
}

export function isFrozenV1(freezerDir: string): boolean {
  return readControl(freezerDir, "freezer.state") === "FROZEN";
}

export interface StatsV1 {
  cpuUsageUs?: number;
  memoryCurrent?: number;
  memoryPeak?: number;
  pidsCurrent?: number;
  oomKills?: number;
}

function numberIn(dir: string | undefined, file: string): number | undefined {
  if (dir === undefined) return undefined;
  const text = readControlIfPresent(dir, file);
  return text === undefined || text === "max" ? undefined : Number(text);
}

export function statsV1(dirs: V1Dirs): StatsV1 {
  const stats: StatsV1 = {};
  const usageNs = numberIn(dirs.cpuacct, "cpuacct.usage");
  if (usageNs !== undefined) stats.cpuUsageUs = Math.floor(usageNs / 1000);
  stats.memoryCurrent = numberIn(dirs.memory, "memory.usage_in_bytes");
  stats.memoryPeak = numberIn(dirs.memory, "memory.max_usage_in_bytes");
  stats.pidsCurrent = numberIn(dirs.pids, "pids.current");
  if (dirs.memory !== undefined) {
    const oom = readControlIfPresent(dirs.memory, "memory.oom_control");
    if (oom !== undefined) stats.oomKills = parseKeyedFile(oom).get("oom_kill");
  }
  return stats;
}
