import { createHash } from "node:crypto";
import { read as fsRead } from "node:fs";
import { promisify } from "node:util";
import { type Bmap, ImageHashMismatchError } from "../image-format/index.js";

const read = promisify(fsRead);
const CHUNK = 4 * 1024 * 1024;

/**
 * Reads every bmap range that overlaps the partition at `offset` (of `size` bytes) from
 * the whole image, checks it against the bmap's sha256 (the bmap itself is covered by
 * the signed manifest), and returns the partition's own block map: the ranges clipped
 * to it, re-based to its first byte, with the sha256 of the clipped bytes. Nothing is
 * written; a tampered range fails here, before the slot is touched.
 */
export async function partitionBmap(
  image: number,
  bmap: Bmap,
  offset: number,
  size: number,
  onBytes?: (done: number, total: number) => void,
): Promise<Bmap> {
  const bs = bmap.blockSize;
  const firstBlock = offset / bs;
  const lastBlock = (offset + size) / bs - 1;
  const overlapping = bmap.ranges.filter((r) => r.last >= firstBlock && r.first <= lastBlock);
  const total = overlapping.reduce((n, r) => n + (r.last - r.first + 1) * bs, 0);
  const buf = Buffer.alloc(CHUNK);
  const ranges: Bmap["ranges"] = [];
  let done = 0;
  for (const r of overlapping) {
    const whole = createHash("sha256");
    const clipped = createHash("sha256");
    const start = r.first * bs;
    const end = Math.min((r.last + 1) * bs, bmap.imageSize);
    const clipStart = Math.max(start, offset);
    const clipEnd = Math.min(end, offset + size);
    for (let pos = start; pos < end; pos += CHUNK) {
      const { bytesRead } = await read(image, buf, 0, Math.min(CHUNK, end - pos), pos);
      const bytes = buf.subarray(0, bytesRead);
      whole.update(bytes);
      const from = Math.max(clipStart - pos, 0);
      const to = Math.min(clipEnd - pos, bytesRead);
      if (to > from) clipped.update(bytes.subarray(from, to));
      done += bytesRead;
      onBytes?.(done, total);
    }
    const actual = whole.digest("hex");
    if (actual !== r.sha256)
      throw new ImageHashMismatchError(`blocks ${r.first}-${r.last}`, r.sha256, actual);
    ranges.push({
      first: clipStart / bs - firstBlock,
      last: clipEnd / bs - 1 - firstBlock,
      sha256: clipped.digest("hex"),
    });
  }
  const mapped = ranges.reduce((n, r) => n + r.last - r.first + 1, 0);
  return {
    imageSize: size,
    blockSize: bs,
    blocksCount: size / bs,
    mappedBlocksCount: mapped,
    ranges,
  };
}
