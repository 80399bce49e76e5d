import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  statSync,
} from "node:fs";
import { devId, parseMountinfo } from "../common/index.js";
import {
  copyMappedBlocks,
  ImageHashMismatchError,
  parseBmap,
  readVerifiedManifest,
  verifyMappedBlocks,
} from "../image-format/index.js";
import { OtaRefusedError } from "./errors.js";
import { partitionBmap } from "./partition-ranges.js";
import { beginInstall, finishInstall, otherSlot, type Slot } from "./slot-state.js";
import type { SlotStore } from "./slot-store.js";

export interface InstallOptions {
  /** An image built by `outpost image build` for this board. */
  image: string;
  /** Default `IMAGE.manifest.json`. */
  manifest?: string;
  /** Default `IMAGE.bmap`. */
  bmap?: string;
  store: SlotStore;
  onProgress?: (phase: "check" | "write" | "verify", done: number, total: number) => void;
}

export interface InstallResult {
  slot: Slot;
  device: string;
  board: string;
  /** SOURCE_DATE_EPOCH of the installed build. */
  created: number;
  mappedBytes: number;
  attempts: number;
}

/**
 * Installs an update into the slot not running: the manifest's signature (against the
 * configured key), its board, the bmap's sha256 and every range of the new rootfs are
 * checked first, so a tampered update fails before anything is written. Then the
 * target is marked dirty, its mapped blocks written, fsynced and read back, and only
 * then does it become the first slot, on trial for the configured number of boots.
 * Cut short anywhere after the first write, the slot stays dirty: never booted.
 */
export async function installUpdate(options: InstallOptions): Promise<InstallResult> {
  const { store } = options;
  const config = store.config;
  const manifestFile = options.manifest ?? `${options.image}.manifest.json`;
  const bmapFile = options.bmap ?? `${options.image}.bmap`;
  const manifest = readVerifiedManifest(manifestFile, config.key);
  if (manifest.board !== config.board) {
    throw new OtaRefusedError(
      `${manifestFile} is an update for board ${manifest.board}; this system is ${config.board}`,
    );
  }
  const bmapText = readFileSync(bmapFile);
  const bmapSum = createHash("sha256").update(bmapText).digest("hex");
  if (bmapSum !== manifest.bmap.sha256)
    throw new ImageHashMismatchError(bmapFile, manifest.bmap.sha256, bmapSum);
  const bmap = parseBmap(bmapText.toString("utf8"), bmapFile);
  const rootfs = manifest.partitions.find((p) => p.role === "rootfs-a");
  if (!rootfs) throw new OtaRefusedError(`${manifestFile} lists no rootfs-a partition`);
  const booted = store.booted();
  const target = otherSlot(booted);
  const dirty = beginInstall(store.read(), booted);
  const device = config.slots[target].device;
  const image = openSync(options.image, "r");
  try {
    const imageSize = fstatSync(image).size;
    if (imageSize !== manifest.image.size)
      throw new ImageHashMismatchError(
        "image size",
        String(manifest.image.size),
        String(imageSize),
      );
    checkTarget(device, rootfs.size);
    const slotBmap = await partitionBmap(image, bmap, rootfs.offset, rootfs.size, (d, t) =>
      options.onProgress?.("check", d, t),
    );
    store.write(dirty);
    const fd = openSync(device, constants.O_RDWR | (isBlock(device) ? constants.O_EXCL : 0));
    try {
      const total = slotBmap.mappedBlocksCount * slotBmap.blockSize;
      await copyMappedBlocks(
        image,
        slotBmap,
        fd,
        (n) => options.onProgress?.("write", n, total),
        rootfs.offset,
      );
      fsyncSync(fd);
      if (isBlock(device)) spawnSync("blockdev", ["--flushbufs", device]);
      await verifyMappedBlocks(
        fd,
        image,
        slotBmap,
        device,
        (n) => options.onProgress?.("verify", n, total),
        rootfs.offset,
      );
    } finally {
      closeSync(fd);
    }
    store.write(finishInstall(store.read(), target, config.attempts));
    return {
      slot: target,
      device,
      board: manifest.board,
      created: manifest.created,
      mappedBytes: slotBmap.mappedBlocksCount * slotBmap.blockSize,
      attempts: config.attempts,
    };
  } finally {
    closeSync(image);
  }
}

function isBlock(path: string): boolean {
  return statSync(path).isBlockDevice();
}

/** The slot must hold the new rootfs, and must not be mounted (least of all as `/`). */
function checkTarget(device: string, needed: number): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(device);
  } catch (err) {
    throw new OtaRefusedError(
      `slot device ${device} cannot be opened (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  }
  let size = st.size;
  if (st.isBlockDevice()) {
    const id = devId(st.rdev);
    const mounts = parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8"));
    if (mounts.some((m) => m.dev === id))
      throw new OtaRefusedError(`slot device ${device} (${id}) is mounted`);
    size = Number(readFileSync(`/sys/dev/block/${id}/size`, "utf8").trim()) * 512;
  }
  if (size < needed) {
    throw new OtaRefusedError(
      `slot device ${device} has ${size} bytes; the update's rootfs needs ${needed}`,
    );
  }
}
