import { join } from "node:path";
import { CGROUP_ROOT, type CgroupMode, CgroupNotMountedError, cgroupModeOf } from "./mode.js";
import { type CgroupMount, readCgroupMounts } from "./mounts.js";
import type { CgroupMembership } from "./own-cgroup.js";

/** The v1 controllers Outpost drives; cpuacct carries CPU usage where cpu lacks it. */
export const V1_CONTROLLERS = ["cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

/**
 * Where each hierarchy is mounted. `unified` is the cgroup2 mount (at /sys/fs/cgroup
 * on v2, /sys/fs/cgroup/unified on hybrid; absent on pure v1); `v1` maps each v1
 * controller to its hierarchy's mount point (co-mounted controllers share one).
 */
export interface CgroupLayout {
  mode: CgroupMode;
  unified?: string;
  v1: Partial<Record<V1Controller, string>>;
}

/** Pure: the layout from the mount table. */
export function cgroupLayoutOf(mounts: readonly CgroupMount[]): CgroupLayout | undefined {
  const mode = cgroupModeOf(mounts);
  if (!mode) return undefined;
  const layout: CgroupLayout = { mode, v1: {} };
  if (mode === "v2") {
    layout.unified = CGROUP_ROOT;
    return layout;
  }
  const unified = mounts.find(
    (m) => m.fsType === "cgroup2" && m.mountPoint === `${CGROUP_ROOT}/unified`,
  );
  if (unified) layout.unified = unified.mountPoint;
  for (const m of mounts) {
    if (m.fsType !== "cgroup") continue;
    for (const c of m.controllers) {
      if ((V1_CONTROLLERS as readonly string[]).includes(c) && !layout.v1[c as V1Controller]) {
        layout.v1[c as V1Controller] = m.mountPoint;
      }
    }
  }
  return layout;
}

export function readCgroupLayout(mountsFile = "/proc/self/mounts"): CgroupLayout {
  const layout = cgroupLayoutOf(readCgroupMounts(mountsFile));
  if (!layout) throw new CgroupNotMountedError(mountsFile);
  return layout;
}

/**
 * A cgroup's directories: one in the unified tree (if mounted) and one per v1
 * controller. Co-mounted v1 controllers point at the same directory.
 */
export interface CgroupDirs {
  unified?: string;
  v1: Partial<Record<V1Controller, string>>;
}

/** `join` keeps the trailing slash of a root path ("/"); group directories carry none. */
function dirJoin(mountPoint: string, path: string): string {
  const joined = join(mountPoint, path);
  return joined.length > 1 && joined.endsWith("/") ? joined.slice(0, -1) : joined;
}

/** Pure: the directories of a process's own cgroups (its membership) in a layout. */
export function dirsOfMembership(layout: CgroupLayout, membership: CgroupMembership): CgroupDirs {
  const dirs: CgroupDirs = { v1: {} };
  if (layout.unified !== undefined && membership.unified !== undefined) {
    dirs.unified = dirJoin(layout.unified, membership.unified);
  }
  for (const [controller, mountPoint] of Object.entries(layout.v1) as [V1Controller, string][]) {
    const path = membership.v1[controller];
    if (path !== undefined) dirs.v1[controller] = dirJoin(mountPoint, path);
  }
  return dirs;
}

/** Pure: the directories of a child group `name` below `parent`. */
export function childDirs(parent: CgroupDirs, name: string): CgroupDirs {
  const dirs: CgroupDirs = { v1: {} };
  if (parent.unified !== undefined) dirs.unified = join(parent.unified, name);
  for (const [controller, dir] of Object.entries(parent.v1) as [V1Controller, string][]) {
    dirs.v1[controller] = join(dir, name);
  }
  return dirs;
}

/** Distinct directories, each once (co-mounted v1 controllers share theirs). */
export function allDirs(dirs: CgroupDirs): string[] {
  const out = new Set<string>();
  if (dirs.unified !== undefined) out.add(dirs.unified);
  for (const dir of Object.values(dirs.v1)) out.add(dir);
  return [...out];
}
