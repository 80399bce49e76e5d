import { createHash } from "node:crypto";
import { closeSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import type { Bmap } from "../image-format/index.js";
import { fatMetadataBytes, isZero, RangeCollector } from "./block-ranges.js";
import { type DiskPlan, sfdiskScript } from "./disk-plan.js";
import { runTool } from "./run-tool.js";

export const BLOCK = 4096;
const CHUNK = 256 * BLOCK;

export interface Assembled {
  bmap: Bmap;
  /** sha256 of every partition's full bytes, by label. */
  partitionSha256: Map<string, string>;
  imageSha256: string;
}

/**
 * Writes the GPT with sfdisk into a sparse image file, then copies each partition image
 * in at its offset. A block is mapped (listed in the bmap, copied by `flash`) when it is
 * not all zeros, or lies where zeros matter on a target holding old data: everything
 * outside the partitions (both GPT copies) and the FAT metadata of vfat partitions.
 */
export async function assembleImage(
  plan: DiskPlan,
  imageFile: string,
  partitionFiles: ReadonlyMap<string, string>,
  raw: { offset: number; bytes: Buffer } | undefined,
  onBytes: (n: number) => void,
): Promise<Assembled> {
  const fd = openSync(imageFile, "w+");
  const mapped = new RangeCollector();
  const partitionSha256 = new Map<string, string>();
  try {
    ftruncateSync(fd, plan.size);
    await runTool(
      "sfdisk",
      ["--no-reread", "--no-tell-kernel", "--wipe", "never", "-q", imageFile],
      {
        input: sfdiskScript(plan),
      },
    );
    const first = plan.partitions[0]?.offset ?? plan.size;
    mapped.add(0, first / BLOCK - 1);
    for (const p of plan.partitions) {
      const file = partitionFiles.get(p.label) as string;
      partitionSha256.set(
        p.label,
        copyPartition(fd, file, p.offset, p.size, p.filesystem, mapped, onBytes),
      );
    }
    if (raw) writeSync(fd, raw.bytes, 0, raw.bytes.length, raw.offset);
    const end = plan.partitions.at(-1);
    const tail = end ? end.offset + end.size : 0;
    mapped.add(tail / BLOCK, plan.size / BLOCK - 1);
    const { ranges, imageSha256 } = hashRanges(fd, plan.size, mapped);
    return {
      bmap: {
        imageSize: plan.size,
        blockSize: BLOCK,
        blocksCount: plan.size / BLOCK,
        mappedBlocksCount: mapped.mappedBlocks,
        ranges,
      },
      partitionSha256,
      imageSha256,
    };
  } finally {
    closeSync(fd);
  }
}

function copyPartition(
  fd: number,
  file: string,
  offset: number,
  size: number,
  filesystem: "vfat" | "ext4",
  mapped: RangeCollector,
  onBytes: (n: number) => void,
): string {
  const src = openSync(file, "r");
  const hash = createHash("sha256");
  const buf = Buffer.alloc(CHUNK);
  let mustCopy = 0;
  try {
    for (let pos = 0; pos < size; pos += CHUNK) {
      const n = readSync(src, buf, 0, Math.min(CHUNK, size - pos), pos);
      const chunk = buf.subarray(0, n);
      if (pos === 0 && filesystem === "vfat") mustCopy = fatMetadataBytes(chunk);
      hash.update(chunk);
      for (let b = 0; b < n; b += BLOCK) {
        const block = chunk.subarray(b, b + BLOCK);
        if (pos + b < mustCopy || !isZero(block)) {
          writeSync(fd, block, 0, block.length, offset + pos + b);
          mapped.add((offset + pos + b) / BLOCK);
        }
      }
      onBytes(n);
    }
  } finally {
    closeSync(src);
  }
  return hash.digest("hex");
}

function hashRanges(
  fd: number,
  size: number,
  mapped: RangeCollector,
): { ranges: Bmap["ranges"]; imageSha256: string } {
  const whole = createHash("sha256");
  const buf = Buffer.alloc(CHUNK);
  const ranges: Bmap["ranges"] = [];
  let next = 0;
  const zero = Buffer.alloc(CHUNK);
  const feedZeros = (upTo: number) => {
    while (next < upTo) {
      const n = Math.min(CHUNK, upTo - next);
      whole.update(zero.subarray(0, n));
      next += n;
    }
  };
  for (const r of mapped.ranges) {
    feedZeros(r.first * BLOCK);
    const h = createHash("sha256");
    const end = (r.last + 1) * BLOCK;
    for (let pos = r.first * BLOCK; pos < end; pos += CHUNK) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK, end - pos), pos);
      h.update(buf.subarray(0, n));
      whole.update(buf.subarray(0, n));
    }
    next = end;
    ranges.push({ ...r, sha256: h.digest("hex") });
  }
  feedZeros(size);
  return { ranges, imageSha256: whole.digest("hex") };
}
