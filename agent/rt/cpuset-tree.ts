import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Cgroup, formatCpuList, parseCpuList } from "../../native/index.js";

/** One group and the CPUs it must end up with. Listed parents before children. */
export interface CpusetTarget {
  group: Cgroup;
  cpus: readonly number[];
}

function cpusetDir(group: Cgroup): string | undefined {
  const dir = group.dirs.v1.cpuset ?? group.dirs.unified;
  return dir !== undefined && existsSync(join(dir, "cpuset.cpus")) ? dir : undefined;
}

function currentCpus(dir: string): number[] {
  return parseCpuList(readFileSync(join(dir, "cpuset.cpus"), "utf8"));
}

/**
 * Moves a tree of groups to new CPU sets. v1 refuses a parent narrower than a child
 * (EBUSY) and a child wider than its parent, so it goes in two passes: parents first,
 * each widened to old ∪ new; then children first, each narrowed to its target. Every
 * step is valid whichever way the CPUs move. Groups without a cpuset are skipped.
 */
export function applyCpusets(targets: readonly CpusetTarget[]): void {
  const present = targets
    .map((t) => ({ ...t, dir: cpusetDir(t.group) }))
    .filter((t): t is CpusetTarget & { dir: string } => t.dir !== undefined);
  const write = (t: CpusetTarget & { dir: string }, cpus: readonly number[]) => {
    const now = currentCpus(t.dir);
    if (formatCpuList(now) !== formatCpuList(cpus)) t.group.setLimits({ cpus });
  };
  for (const t of present) {
    const union = [...new Set([...currentCpus(t.dir), ...t.cpus])].sort((a, b) => a - b);
    write(t, union);
  }
  for (const t of [...present].reverse()) write(t, t.cpus);
}
