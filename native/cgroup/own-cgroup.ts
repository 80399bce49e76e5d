import { readFileSync } from "node:fs";

/**
 * Where a process sits in each hierarchy, as /proc/<pid>/cgroup lists it: the path in
 * the unified (cgroup2) hierarchy and, on v1/hybrid, the path per v1 controller.
 * Paths are relative to each hierarchy's mount point and start with `/`.
 */
export interface CgroupMembership {
  unified?: string;
  /** v1 controller (`cpu`, `memory`, …, or `name=systemd`) → path. */
  v1: Record<string, string>;
}

/** Pure: parses the text of /proc/<pid>/cgroup (`id:controllers:path` per line). */
export function parseProcCgroup(text: string): CgroupMembership {
  const membership: CgroupMembership = { v1: {} };
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0)
      throw new TypeError(`unexpected /proc/<pid>/cgroup line '${line}'`);
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (line.slice(0, first) === "0" && controllers === "") membership.unified = path;
    else for (const c of controllers.split(",")) membership.v1[c] = path;
  }
  return membership;
}

/** The cgroups of a process (default: this one) from /proc/<pid>/cgroup. */
export function readCgroupMembership(pid: number | "self" = "self"): CgroupMembership {
  return parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, "utf8"));
}
