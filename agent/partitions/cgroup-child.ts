import { existsSync, readdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { hasCode } from "../../common/errors.js";
import { Cgroup, type CgroupDirs } from "../../native/index.js";

function childDirsOf(parent: CgroupDirs, name: string): CgroupDirs {
  const dirs: CgroupDirs = { v1: {} };
  if (parent.unified !== undefined) dirs.unified = join(parent.unified, name);
  for (const [controller, dir] of Object.entries(parent.v1) as [keyof CgroupDirs["v1"], string][])
    dirs.v1[controller] = join(dir, name);
  return dirs;
}

function dirsOf(dirs: CgroupDirs): string[] {
  return [...new Set([dirs.unified, ...Object.values(dirs.v1)].filter((d) => d !== undefined))];
}

/**
 * The child group `name` of `parent`, created if missing. An existing group is opened as
 * it is, processes included: after an agent restart, a partition's group still holds its
 * workloads. A group present in only some hierarchies (creation interrupted by a crash,
 * so it holds no process) is removed and created again.
 */
export function openOrCreateChild(parent: Cgroup, name: string): Cgroup {
  try {
    return parent.createChild(name);
  } catch (err) {
    if (!hasCode(err, "E_CGROUP_EXISTS")) throw err;
  }
  const dirs = childDirsOf(parent.dirs, name);
  const all = dirsOf(dirs);
  if (all.every((d) => existsSync(d))) return new Cgroup(parent.layout, dirs);
  for (const dir of all.reverse()) if (existsSync(dir)) rmdirSync(dir);
  return parent.createChild(name);
}

/** Names of the groups directly below `group`, across its hierarchies. */
function childNames(group: Cgroup): string[] {
  const names = new Set<string>();
  for (const dir of dirsOf(group.dirs)) {
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true }))
      if (entry.isDirectory()) names.add(entry.name);
  }
  return [...names];
}

/** The group `name` below `parent`, whether it exists or not (see `existsIn`). */
export function childOf(parent: Cgroup, name: string): Cgroup {
  return new Cgroup(parent.layout, childDirsOf(parent.dirs, name));
}

/** Whether `group` has a directory in any of its hierarchies. */
export function existsIn(group: Cgroup): boolean {
  return dirsOf(group.dirs).some((d) => existsSync(d));
}

/** The groups directly below `group`, by name. */
export function childGroups(group: Cgroup): { name: string; group: Cgroup }[] {
  return childNames(group)
    .sort()
    .map((name) => ({ name, group: new Cgroup(group.layout, childDirsOf(group.dirs, name)) }));
}

/**
 * Removes `group` and every group below it, deepest first, killing what runs in them
 * (`Cgroup.remove` alone refuses a group that still has children).
 */
export async function removeCgroupTree(group: Cgroup): Promise<void> {
  for (const name of childNames(group))
    await removeCgroupTree(new Cgroup(group.layout, childDirsOf(group.dirs, name)));
  await group.remove();
}
