import { NativeError } from "../errors.js";
import { type CgroupMount, readCgroupMounts } from "./mounts.js";

/**
 * `v2`: one unified hierarchy at /sys/fs/cgroup (what current gateways run).
 * `hybrid`: v1 controller hierarchies plus a controller-less cgroup2 at /sys/fs/cgroup/unified.
 * `v1`: v1 controller hierarchies only.
 */
export type CgroupMode = "v2" | "hybrid" | "v1";

export const CGROUP_ROOT = "/sys/fs/cgroup";

/** No cgroup filesystem is mounted where Outpost looks for one. */
export class CgroupNotMountedError extends NativeError {
  readonly code = "E_CGROUP_NOT_MOUNTED";
  constructor(readonly mountsFile: string) {
    super(`no cgroup filesystem mounted under ${CGROUP_ROOT} (read ${mountsFile})`);
  }
}

/** Pure: decides the mode from the cgroup mounts. */
export function cgroupModeOf(mounts: readonly CgroupMount[]): CgroupMode | undefined {
  const v2 = mounts.find((m) => m.fsType === "cgroup2" && m.mountPoint === CGROUP_ROOT);
  if (v2) return "v2";
  const v1 = mounts.some(
    (m) => m.fsType === "cgroup" && m.controllers.some((c) => !c.startsWith("name=")),
  );
  if (!v1) return undefined;
  const unified = mounts.some(
    (m) => m.fsType === "cgroup2" && m.mountPoint === `${CGROUP_ROOT}/unified`,
  );
  return unified ? "hybrid" : "v1";
}

/** Reads /proc/self/mounts and tells which cgroup layout this machine runs. */
export function detectCgroupMode(mountsFile = "/proc/self/mounts"): CgroupMode {
  const mode = cgroupModeOf(readCgroupMounts(mountsFile));
  if (!mode) throw new CgroupNotMountedError(mountsFile);
  return mode;
}
