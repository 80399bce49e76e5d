/**
 * One mount of the kernel's mount table. `dev` and `root` are known only from
 * /proc/self/mountinfo; /proc/self/mounts does not carry them.
 */
export interface MountEntry {
  /** What is mounted: a device path, or a name such as `proc`, `tmpfs`, `cgroup2`. */
  source: string;
  mountPoint: string;
  fsType: string;
  /**
   * The mount's options, then its filesystem's (`rw`, `nosuid`, `relatime`, `hidepid=2`,
   * `cpu`, `cpuacct`, …), in the order the kernel lists them, so the last of two wins.
   */
  options: string[];
  /** mountinfo only: `major:minor` of the filesystem's device. */
  dev?: string;
  /** mountinfo only: the directory of that filesystem mounted here (`/` for all of it). */
  root?: string;
}

/** The kernel writes space, tab, newline and backslash in a mount field as octal `\NNN`. */
function unescapeField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) =>
    String.fromCharCode(Number.parseInt(oct, 8)),
  );
}

/**
 * /proc/self/mounts (and /proc/mounts, /etc/mtab): `source mountPoint fsType options
 * dump pass` per line. Lines with fewer than four fields are skipped.
 */
export function parseMounts(text: string): MountEntry[] {
  const mounts: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const [source, mountPoint, fsType, options] = line.split(" ");
    if (options === undefined) continue;
    mounts.push({
      source: unescapeField(source as string),
      mountPoint: unescapeField(mountPoint as string),
      fsType: fsType as string,
      options: options.split(","),
    });
  }
  return mounts;
}

/**
 * /proc/self/mountinfo: `id parent major:minor root mountPoint options [optional…] -
 * fsType source superOptions` per line. `options` holds the mount's options, then the
 * filesystem's, as /proc/self/mounts lists them. Lines without the ` - ` separator are
 * skipped.
 */
export function parseMountinfo(text: string): MountEntry[] {
  const mounts: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    const dash = fields.indexOf("-", 6);
    if (dash < 0 || fields.length < dash + 3) continue;
    const [, , dev, root, mountPoint, options] = fields as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const superOptions = fields[dash + 3];
    mounts.push({
      source: unescapeField(fields[dash + 2] as string),
      mountPoint: unescapeField(mountPoint),
      fsType: fields[dash + 1] as string,
      options: [...options.split(","), ...(superOptions ? superOptions.split(",") : [])],
      dev,
      root: unescapeField(root),
    });
  }
  return mounts;
}

/**
 * `major:minor` of a device number (`stat`'s `dev` or `rdev`), as mountinfo's `dev` field
 * and sysfs (`/sys/dev/block/MAJOR:MINOR`) write it.
 */
export function devId(rdev: number): string {
  // Linux dev_t: major in bits 8-19 (and 32-43), minor in bits 0-7 and 20-31.
  const major = ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >> 12) & ~0xff & 0xfffff);
  return `${major}:${minor}`;
}
