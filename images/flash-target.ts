import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** `major:minor` of a block device, as /proc/self/mountinfo and sysfs write it. */
export type DevId = string;

export function devId(rdev: number): DevId {
  // Linux dev_t: major in bits 8-19 (and 32-43), minor in bits 0-7 and 20-31.
  const major = ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >> 12) & ~0xff & 0xfffff);
  return `${major}:${minor}`;
}

/** The devices mounted somewhere (mountinfo field 3), and the one mounted on `/`. */
export function parseMountinfo(text: string): { mounted: Set<DevId>; root: DevId | undefined } {
  const mounted = new Set<DevId>();
  let root: DevId | undefined;
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    const dev = fields[2];
    if (!dev) continue;
    mounted.add(dev);
    if (fields[4] === "/") root = dev;
  }
  return { mounted, root };
}

/**
 * The whole disks a block device lives on: itself for a disk, its parent for a
 * partition, the disks under every slave for device-mapper/MD devices (root on LVM).
 */
export function disksOf(dev: DevId, sys = "/sys"): DevId[] {
  const node = join(sys, "dev/block", dev);
  if (!existsSync(node)) return [dev];
  const path = realpathSync(node);
  const slaves = join(path, "slaves");
  if (existsSync(slaves) && readdirSync(slaves).length > 0) {
    return readdirSync(slaves).flatMap((s) => disksOf(readDev(join(slaves, s)), sys));
  }
  if (existsSync(join(path, "partition"))) return [readDev(dirname(path))];
  return [dev];
}

/** A disk and all its partitions (what "this disk is mounted" has to look at). */
export function devicesOnDisk(disk: DevId, sys = "/sys"): DevId[] {
  const node = join(sys, "dev/block", disk);
  if (!existsSync(node)) return [disk];
  const path = realpathSync(node);
  const name = basename(path);
  const parts = readdirSync(path).filter(
    (e) => e.startsWith(name) && existsSync(join(path, e, "dev")),
  );
  return [disk, ...parts.map((p) => readDev(join(path, p)))];
}

/** Holders (device-mapper, MD) stacked on any of `devs`: such a disk is in use. */
export function holdersOf(devs: readonly DevId[], sys = "/sys"): string[] {
  return devs.flatMap((d) => {
    const dir = join(sys, "dev/block", d, "holders");
    return existsSync(dir) ? readdirSync(dir) : [];
  });
}

function readDev(dir: string): DevId {
  return readFileSync(join(dir, "dev"), "utf8").trim();
}

export type Refusal = { reason: "root-disk" | "mounted" | "in-use"; detail: string };

/**
 * Why a block device must not be written, or undefined. Pure over its inputs so it can
 * be proved against any mount table; `flash` feeds it the live /proc and /sys.
 */
export function refuseBlockDevice(
  target: DevId,
  mountinfo: string,
  sys = "/sys",
): Refusal | undefined {
  const { mounted, root } = parseMountinfo(mountinfo);
  const targetDisks = disksOf(target, sys);
  const rootDisks = root ? disksOf(root, sys) : [];
  const shared = targetDisks.find((d) => rootDisks.includes(d));
  if (shared)
    return { reason: "root-disk", detail: `it is the disk the system runs from (${shared})` };
  const onDisk = existsSync(join(sys, "dev/block", target, "partition"))
    ? [target]
    : devicesOnDisk(target, sys);
  const busy = onDisk.find((d) => mounted.has(d));
  if (busy) return { reason: "mounted", detail: `${busy} is mounted` };
  const holders = holdersOf(onDisk, sys);
  if (holders.length > 0) return { reason: "in-use", detail: `held by ${holders.join(", ")}` };
  return undefined;
}
