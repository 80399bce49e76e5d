import { readFileSync } from "node:fs";

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

/** The kernel escapes space, tab, newline and backslash in mount fields as octal `\NNN`. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) =>
    String.fromCharCode(Number.parseInt(oct, 8)),
  );
}

/** Parses the text of /proc/self/mounts (fstab format) into its cgroup mounts. */
export function parseCgroupMounts(text: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    if (fields.length < 4) continue;
    const [, rawMountPoint, fsType, options] = fields as [string, string, string, string];
    if (fsType !== "cgroup" && fsType !== "cgroup2") continue;
    const controllers =
      fsType === "cgroup"
        ? options
            .split(",")
            .filter((o) => !V1_OPTION_NOT_CONTROLLER.has(o) && !o.startsWith("release_agent="))
        : [];
    mounts.push({ mountPoint: unescapeMountField(rawMountPoint), fsType, controllers });
  }
  return mounts;
}

export function readCgroupMounts(mountsFile = "/proc/self/mounts"): CgroupMount[] {
  return parseCgroupMounts(readFileSync(mountsFile, "utf8"));
}
