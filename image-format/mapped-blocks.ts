import { createHash } from "node:crypto";
import { read as fsRead, write as fsWrite } from "node:fs";
import { promisify } from "node:util";
import type { Bmap } from "./bmap-file.js";
import { FlashVerifyError, ImageHashMismatchError } from "./errors.js";

const CHUNK = 4 * 1024 * 1024;

const read = promisify(fsRead);
const write = promisify(fsWrite);

interface Chunk {
  pos: number;
  length: number;
  /** The bmap range this chunk ends, if it is its last. */
  ends?: Bmap["ranges"][number];
}

function* chunksOf(bmap: Bmap): Generator<Chunk> {
  for (const r of bmap.ranges) {
    const end = Math.min((r.last + 1) * bmap.blockSize, bmap.imageSize);
    for (let pos = r.first * bmap.blockSize; pos < end; pos += CHUNK) {
      const length = Math.min(CHUNK, end - pos);
      yield pos + length >= end ? { pos, length, ends: r } : { pos, length };
    }
  }
}

/**
 * Copies every mapped range, hashing what it reads and stopping at the first range
 * whose sha256 differs from the bmap's. `sourceOffset` is where the bmap's byte 0 lies
 * in `image`: the target gets the bmap's offsets. Three buffers keep the disk and the CPU busy at
 * once: the next chunk is read and the previous one written while this one is hashed.
 */
export async function copyMappedBlocks(
  image: number,
  bmap: Bmap,
  target: number,
  onBytes: (done: number) => void,
  sourceOffset = 0,
): Promise<void> {
  const chunks = [...chunksOf(bmap)];
  const buffers = [Buffer.alloc(CHUNK), Buffer.alloc(CHUNK), Buffer.alloc(CHUNK)];
  const readInto = (i: number) => {
    const c = chunks[i] as Chunk;
    return read(image, buffers[i % 3] as Buffer, 0, c.length, c.pos + sourceOffset);
  };
  let done = 0;
  let writing: Promise<unknown> = Promise.resolve();
  let hash = createHash("sha256");
  let next = chunks.length > 0 ? readInto(0) : undefined;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i] as Chunk;
    const buf = buffers[i % 3] as Buffer;
    const { bytesRead } = await (next as ReturnType<typeof readInto>);
    next = i + 1 < chunks.length ? readInto(i + 1) : undefined;
    hash.update(buf.subarray(0, bytesRead));
    await writing;
    writing = write(target, buf, 0, bytesRead, chunk.pos);
    done += bytesRead;
    onBytes(done);
    if (chunk.ends) {
      const actual = hash.digest("hex");
      hash = createHash("sha256");
      if (actual !== chunk.ends.sha256) {
        await Promise.all([writing, next]);
        throw new ImageHashMismatchError(
          `blocks ${chunk.ends.first}-${chunk.ends.last}`,
          chunk.ends.sha256,
          actual,
        );
      }
    }
  }
  await writing;
}

/**
 * Reads every mapped range back from the target and compares it byte for byte with the
 * image (whose ranges the copy already checked against the bmap); the next chunk of
 * both is read while the current one is compared. `sourceOffset` is where the bmap's
 * byte 0 lies in `image` (a partition's bmap inside a whole image), as for the copy.
 */
export async function verifyMappedBlocks(
  target: number,
  image: number,
  bmap: Bmap,
  name: string,
  onBytes: (done: number) => void,
  sourceOffset = 0,
): Promise<void> {
  const chunks = [...chunksOf(bmap)];
  const buffers = [0, 1].map(() => [Buffer.alloc(CHUNK), Buffer.alloc(CHUNK)] as const);
  const readBoth = (i: number) => {
    const c = chunks[i] as Chunk;
    const [written, expected] = buffers[i % 2] as readonly [Buffer, Buffer];
    return Promise.all([
      read(target, written, 0, c.length, c.pos),
      read(image, expected, 0, c.length, c.pos + sourceOffset),
    ]);
  };
  let done = 0;
  let next = chunks.length > 0 ? readBoth(0) : undefined;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i] as Chunk;
    const [fromTarget, fromImage] = await (next as ReturnType<typeof readBoth>);
    next = i + 1 < chunks.length ? readBoth(i + 1) : undefined;
    const [written, expected] = buffers[i % 2] as readonly [Buffer, Buffer];
    const same =
      fromTarget.bytesRead === fromImage.bytesRead &&
      written.subarray(0, fromTarget.bytesRead).equals(expected.subarray(0, fromImage.bytesRead));
    if (!same) {
      await next;
      const range = bmap.ranges.find((r) => (r.last + 1) * bmap.blockSize > chunk.pos);
      throw new FlashVerifyError(name, range ? `${range.first}-${range.last}` : String(chunk.pos));
    }
    done += fromTarget.bytesRead;
    onBytes(done);
  }
}
