import { spawnSync } from "node:child_process";
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  statSync,
} from "node:fs";
import { devId } from "../common/index.js";
import {
  copyMappedBlocks,
  ImageHashMismatchError,
  parseBmap,
  verifyMappedBlocks,
} from "../image-format/index.js";
import { FlashRefusedError } from "./errors.js";
import { refuseBlockDevice } from "./flash-target.js";

export interface FlashOptions {
  image: string;
  /** Defaults to `IMAGE.bmap`. */
  bmap?: string;
  /** A block device, or a file (created, or truncated to the image size). */
  target: string;
  /** Required to write a block device. */
  yes: boolean;
  onProgress?: (done: number, total: number, phase: "write" | "verify") => void;
}

export interface FlashResult {
  target: string;
  kind: "file" | "block-device";
  imageSize: number;
  mappedBytes: number;
  writeSeconds: number;
  verifySeconds: number;
  /** Mapped bytes written per second, MB = 10^6 bytes. */
  writeMBps: number;
}

/**
 * Copies the mapped blocks of an image to a device or file (bmaptool's method), checking
 * each range's sha256 from the bmap as it is read, fsyncs, then reads every range back
 * from the target and compares it with the image. Refuses the root disk, a mounted or held device, a block
 * device without `yes`, and the image itself.
 */
export async function flashImage(options: FlashOptions): Promise<FlashResult> {
  const bmapPath = options.bmap ?? `${options.image}.bmap`;
  const bmap = parseBmap(readFileSync(bmapPath, "utf8"), bmapPath);
  const image = openSync(options.image, "r");
  try {
    if (fstatSync(image).size !== bmap.imageSize) {
      throw new ImageHashMismatchError(
        "image size",
        String(bmap.imageSize),
        String(fstatSync(image).size),
      );
    }
    const { fd, kind } = openTarget(options, bmap.imageSize);
    try {
      const total = bmap.mappedBlocksCount * bmap.blockSize;
      const t0 = process.hrtime.bigint();
      await copyMappedBlocks(image, bmap, fd, (n) => options.onProgress?.(n, total, "write"));
      fsyncSync(fd);
      const t1 = process.hrtime.bigint();
      // Drop the device's cached pages so the read-back comes from the medium.
      if (kind === "block-device") spawnSync("blockdev", ["--flushbufs", options.target]);
      await verifyMappedBlocks(fd, image, bmap, options.target, (n) =>
        options.onProgress?.(n, total, "verify"),
      );
      const t2 = process.hrtime.bigint();
      const writeSeconds = Number(t1 - t0) / 1e9;
      return {
        target: options.target,
        kind,
        imageSize: bmap.imageSize,
        mappedBytes: total,
        writeSeconds,
        verifySeconds: Number(t2 - t1) / 1e9,
        writeMBps: total / 1e6 / writeSeconds,
      };
    } finally {
      closeSync(fd);
    }
  } finally {
    closeSync(image);
  }
}

function openTarget(
  options: FlashOptions,
  size: number,
): { fd: number; kind: FlashResult["kind"] } {
  const { target } = options;
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(target);
  } catch {
    st = undefined;
  }
  if (st?.isBlockDevice()) {
    const refusal = refuseBlockDevice(devId(st.rdev), readFileSync("/proc/self/mountinfo", "utf8"));
    if (refusal) throw new FlashRefusedError(target, refusal.reason, refusal.detail);
    if (!options.yes) {
      throw new FlashRefusedError(
        target,
        "not-confirmed",
        "it is a block device and everything on it is lost; pass --yes",
      );
    }
    // O_EXCL on a block device: the kernel refuses if anything (a mount, md, dm) holds it.
    const fd = openSync(target, constants.O_WRONLY | constants.O_EXCL);
    return { fd, kind: "block-device" };
  }
  if (st && !st.isFile())
    throw new FlashRefusedError(target, "not-writable", "not a block device or regular file");
  const image = statSync(options.image);
  if (st && st.ino === image.ino && st.dev === image.dev) {
    throw new FlashRefusedError(target, "not-writable", "it is the image itself");
  }
  const fd = openSync(target, "w+");
  ftruncateSync(fd, size);
  return { fd, kind: "file" };
}
