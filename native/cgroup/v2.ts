import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { formatCpuList } from "../cpu-list.js";
import { readControl, readControlIfPresent, writeControl } from "./control-file.js";
import { CgroupPartitionInvalidError } from "./errors.js";
import type { CgroupLimits } from "./limits.js";
import { cpuMaxV2, maxV2, parseKeyedFile, parsePartition } from "./values.js";

/** cgroup v2 (unified) operations on one group directory. */

/** The controllers a v2 child needs in its parent's `cgroup.subtree_control` for these limits. */
export function controllersFor(limits: CgroupLimits): string[] {
  const out = new Set<string>();
  if (limits.cpuCores !== undefined || limits.cpuWeight !== undefined) out.add("cpu");
  if (limits.memoryMax !== undefined) out.add("memory");
  if (limits.pidsMax !== undefined) out.add("pids");
  if (limits.cpus !== undefined || limits.mems !== undefined || limits.partition !== undefined)
    out.add("cpuset");
  return [...out];
}

/**
 * Enables controllers for the children of `parentDir` (those its own `cgroup.controllers`
 * offers and not yet enabled). A controller `parentDir` is not offered is enabled in
 * its ancestors first, up to `root` (the unified mount), so a group nested a few
 * levels below the agent's delegated group still gets cpu, memory and pids. The kernel
 * refuses (EBUSY) when a group holds processes itself and is not the root: the "no
 * internal processes" rule.
 */
export function enableControllersV2(
  parentDir: string,
  wanted: readonly string[],
  root?: string,
): void {
  let available = readControl(parentDir, "cgroup.controllers").split(/\s+/);
  const offeredAbove = wanted.filter((c) => !available.includes(c));
  if (offeredAbove.length > 0 && root !== undefined && parentDir.startsWith(`${root}/`)) {
    enableControllersV2(dirname(parentDir), offeredAbove, root);
    available = readControl(parentDir, "cgroup.controllers").split(/\s+/);
  }
  const enabled = new Set(readControl(parentDir, "cgroup.subtree_control").split(/\s+/));
  const missing = wanted.filter((c) => available.includes(c) && !enabled.has(c));
  if (missing.length > 0)
    writeControl(parentDir, "cgroup.subtree_control", missing.map((c) => `+${c}`).join(" "));
}

export function applyLimitsV2(dir: string, limits: CgroupLimits): void {
  if (limits.cpus !== undefined) writeControl(dir, "cpuset.cpus", formatCpuList(limits.cpus));
  if (limits.mems !== undefined) writeControl(dir, "cpuset.mems", formatCpuList(limits.mems));
  if (limits.cpuCores !== undefined)
    writeControl(dir, "cpu.max", cpuMaxV2(limits.cpuCores ?? undefined));
  if (limits.cpuWeight !== undefined) writeControl(dir, "cpu.weight", String(limits.cpuWeight));
  if (limits.memoryMax !== undefined)
    writeControl(dir, "memory.max", maxV2(limits.memoryMax ?? undefined));
  if (limits.pidsMax !== undefined)
    writeControl(dir, "pids.max", maxV2(limits.pidsMax ?? undefined));
  if (limits.partition !== undefined) {
    writeControl(dir, "cpuset.cpus.partition", limits.partition);
    // The write succeeds even when the partition cannot take effect; only a read tells.
    const state = readControl(dir, "cpuset.cpus.partition");
    if (!parsePartition(state).valid) throw new CgroupPartitionInvalidError(dir, state);
  }
}

export function hasFreezeV2(dir: string): boolean {
  return existsSync(join(dir, "cgroup.freeze"));
}

export function setFrozenV2(dir: string, frozen: boolean): void {
  writeControl(dir, "cgroup.freeze", frozen ? "1" : "0");
}

export function isFrozenV2(dir: string): boolean {
  return parseKeyedFile(readControl(dir, "cgroup.events")).get("frozen") === 1;
}

/** `cgroup.kill` (Linux 5.14): SIGKILL to every process of the group and its descendants. */
export function killV2(dir: string): boolean {
  if (!existsSync(join(dir, "cgroup.kill"))) return false;
  writeControl(dir, "cgroup.kill", "1");
  return true;
}

/** Whether any process is left in the group or below it. */
export function isPopulatedV2(dir: string): boolean {
  return parseKeyedFile(readControl(dir, "cgroup.events")).get("populated") === 1;
}

export interface StatsV2 {
  cpuUsageUs?: number;
  memoryCurrent?: number;
  memoryPeak?: number;
  pidsCurrent?: number;
  oomKills?: number;
}

function numberIn(dir: string, file: string): number | undefined {
  const text = readControlIfPresent(dir, file);
  return text === undefined || text === "max" ? undefined : Number(text);
}

export function statsV2(dir: string): StatsV2 {
  const stats: StatsV2 = {};
  const cpuStat = readControlIfPresent(dir, "cpu.stat");
  if (cpuStat !== undefined) stats.cpuUsageUs = parseKeyedFile(cpuStat).get("usage_usec");
  stats.memoryCurrent = numberIn(dir, "memory.current");
  stats.memoryPeak = numberIn(dir, "memory.peak");
  stats.pidsCurrent = numberIn(dir, "pids.current");
  const events = readControlIfPresent(dir, "memory.events");
  if (events !== undefined) stats.oomKills = parseKeyedFile(events).get("oom_kill");
  return stats;
}
