import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseMountinfo } from "../common/index.js";

/** `major:minor` of a block device, as /proc/self/mountinfo and sysfs write it. */
export type DevId = string;

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
  const mounts = parseMountinfo(mountinfo);
  const mounted = new Set(mounts.map((m) => m.dev));
  const root = mounts.findLast((m) => m.mountPoint === "/")?.dev;
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
