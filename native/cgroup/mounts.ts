import { readFileSync } from "node:fs";
import { parseMounts } from "../../common/index.js";

/** One cgroup filesystem mount, as listed in /proc/self/mounts. */
export interface CgroupMount {
  /** Where it is mounted, e.g. `/sys/fs/cgroup/memory` or `/sys/fs/cgroup/unified`. */
  mountPoint: string;
  /** `cgroup2` (unified) or `cgroup` (v1 hierarchy). */
  fsType: "cgroup" | "cgroup2";
  /** v1 only: controllers bound to this hierarchy (mount options such as `cpu`, `cpuacct`, `name=systemd`). */
  controllers: string[];
}

const V1_OPTION_NOT_CONTROLLER = new Set([
  "rw",
  "ro",
  "relatime",
  "noatime",
  "nosuid",
  "nodev",
  "noexec",
  "xattr",
  "clone_children",
  "noprefix",
  "cpuset_v2_mode",
  "nsdelegate",
  "memory_recursiveprot",
  "memory_localevents",
  "memory_hugetlb_accounting",
  "favordynmods",
]);

/** The cgroup mounts in the text of /proc/self/mounts (fstab format). */
export function parseCgroupMounts(text: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const { mountPoint, fsType, options } of parseMounts(text)) {
    if (fsType !== "cgroup" && fsType !== "cgroup2") continue;
    const controllers =
      fsType === "cgroup"
        ? options.filter((o) => !V1_OPTION_NOT_CONTROLLER.has(o) && !o.startsWith("release_agent="))
        : [];
    mounts.push({ mountPoint, fsType, controllers });
  }
  return mounts;
}

export function readCgroupMounts(mountsFile = "/proc/self/mounts"): CgroupMount[] {
  return parseCgroupMounts(readFileSync(mountsFile, "utf8"));
}
