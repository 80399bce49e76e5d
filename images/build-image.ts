import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Board } from "../boards/index.js";
import {
  type ImageManifest,
  loadSigningKey,
  renderBmap,
  type SignedManifest,
  signManifest,
} from "../image-format/index.js";
import { assembleImage } from "./assemble.js";
import { planDisk } from "./disk-plan.js";
import { ImageInputError } from "./errors.js";
import { makeExt4 } from "./ext4.js";
import { stageRootfs } from "./stage-rootfs.js";
import { applySystemOverlay, type SystemOptions } from "./system-overlay.js";
import { makeVfat } from "./vfat.js";

export interface BuildImageOptions {
  board: Board;
  /** Root filesystem tarball (any compression tar reads). */
  rootfs: string;
  out: string;
  /** PEM ed25519 private key; the manifest is unsigned without it. */
  signKey?: string;
  /**
   * The Outpost system (agent, Node.js, A/B boot, mounts) added to the rootfs; without
   * it the image holds the tarball as it is.
   */
  system?: SystemOptions;
  /** Defaults to the newest mtime in the rootfs tarball. */
  sourceDateEpoch?: number;
  onProgress?: (progress: BuildProgress) => void;
  /** Aborting kills the running tool and removes everything the build wrote. */
  signal?: AbortSignal;
}

export interface BuildProgress {
  step: "extract" | "filesystems" | "assemble" | "done";
  /** Bytes of partitions assembled so far (the long part), of `total`. */
  done: number;
  total: number;
}

export interface BuiltImage {
  image: string;
  bmap: string;
  manifestFile: string;
  manifest: SignedManifest;
  mappedBytes: number;
}

/** Where each bootloader expects the boot partition's files inside a Debian rootfs. */
const BOOT_DIR: Record<Board["bootloader"]["type"], string> = {
  "grub-efi": "boot/efi",
  "rpi-firmware": "boot/firmware",
  "u-boot": "boot/firmware",
};

/**
 * Builds FILE, FILE.bmap and FILE.manifest.json from a rootfs tarball for a board: boot
 * partition from the rootfs's boot directory, rootfs A from the rest, empty rootfs B and
 * data. No loop mounts. The same inputs give the same bytes. Outputs appear only once
 * complete (written beside, then renamed).
 */
export async function buildImage(options: BuildImageOptions): Promise<BuiltImage> {
  const { board, out } = options;
  // A bad key fails now, not after minutes of building.
  const signingKey = options.signKey ? loadSigningKey(options.signKey) : undefined;
  const plan = planDisk(board);
  const total = plan.partitions.reduce((n, p) => n + p.size, 0);
  const progress = (step: BuildProgress["step"], done: number) =>
    options.onProgress?.({ step, done, total });
  const work = mkdtempSync(join(dirname(out), ".outpost-image-"));
  try {
    progress("extract", 0);
    const staged = await stageRootfs(
      options.rootfs,
      work,
      BOOT_DIR[board.bootloader.type],
      options.sourceDateEpoch,
      options.signal,
      options.system &&
        ((root, boot) =>
          applySystemOverlay(
            board,
            plan,
            root,
            boot,
            {
              ...(signingKey ? { releaseKey: releaseKeyOf(signingKey) } : {}),
              ...options.system,
            },
            options.signal,
          )),
    );
    progress("filesystems", 0);
    const files = new Map<string, string>();
    for (const p of plan.partitions) {
      const file = join(work, `${p.label}.part`);
      files.set(p.label, file);
      const common = {
        file,
        size: p.size,
        label: p.label,
        epoch: staged.epoch,
        signal: options.signal,
      };
      if (p.filesystem === "vfat") {
        await makeVfat({ ...common, volumeId: p.fsId, sourceDir: staged.boot });
      } else {
        const source =
          p.role === "rootfs-a" ? { dir: staged.root, paths: staged.rootPaths } : undefined;
        await makeExt4({ ...common, uuid: p.fsId, source });
      }
    }
    const raw = board.bootloader.raw && {
      offset: board.bootloader.raw.offsetKiB * 1024,
      bytes: readRaw(join(staged.root, board.bootloader.raw.path), board.bootloader.raw.path),
    };
    const firstOffset = plan.partitions[0]?.offset ?? plan.size;
    if (raw && raw.offset + raw.bytes.length > firstOffset) {
      throw new ImageInputError(
        `the board's raw bootloader (${raw.bytes.length} bytes at ${raw.offset}) runs into the first partition at ${firstOffset}; raise layout.firstOffsetMiB`,
        board.bootloader.raw?.path ?? "",
      );
    }
    const tmpImage = join(work, "image");
    options.signal?.throwIfAborted();
    let done = 0;
    const assembled = await assembleImage(plan, tmpImage, files, raw, (n) => {
      done += n;
      progress("assemble", done);
    });
    const bmapText = renderBmap(assembled.bmap);
    const manifest: ImageManifest = {
      format: "outpost-image/1",
      board: board.id,
      arch: board.arch,
      created: staged.epoch,
      image: { size: plan.size, sha256: assembled.imageSha256 },
      bmap: { sha256: createHash("sha256").update(bmapText).digest("hex") },
      diskGuid: plan.diskGuid,
      partitions: plan.partitions.map((p) => ({
        label: p.label,
        role: p.role,
        filesystem: p.filesystem,
        partuuid: p.partuuid,
        offset: p.offset,
        size: p.size,
        sha256: assembled.partitionSha256.get(p.label) as string,
      })),
    };
    const signed = signManifest(manifest, signingKey);
    options.signal?.throwIfAborted();
    writeFileSync(join(work, "bmap"), bmapText);
    writeFileSync(join(work, "manifest"), `${JSON.stringify(signed, null, 2)}\n`);
    const result: BuiltImage = {
      image: out,
      bmap: `${out}.bmap`,
      manifestFile: `${out}.manifest.json`,
      manifest: signed,
      mappedBytes: assembled.bmap.mappedBlocksCount * assembled.bmap.blockSize,
    };
    renameSync(tmpImage, result.image);
    renameSync(join(work, "bmap"), result.bmap);
    renameSync(join(work, "manifest"), result.manifestFile);
    progress("done", total);
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function releaseKeyOf(signingKey: KeyObject): string {
  return createPublicKey(signingKey).export({ type: "spki", format: "pem" }).toString();
}

function readRaw(file: string, inRootfs: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    throw new ImageInputError(
      `the board's raw bootloader ${inRootfs} is not in the rootfs`,
      inRootfs,
    );
  }
}
