import { crc32c } from "@node-rs/crc32";
import { readU64, writeU64 } from "../common/u64.js";

/**
 * The first bytes of every chunk file (little endian):
 *
 * | offset | size | field                                   |
 * | ------ | ---- | --------------------------------------- |
 * | 0      | 8    | magic `OPCHUNK\0`                       |
 * | 8      | 2    | format version, 1                       |
 * | 10     | 2    | header length H (= 34 + s + f)          |
 * | 12     | 8    | chunk id (monotonic, unique per node)   |
 * | 20     | 8    | creation time, ms since the epoch       |
 * | 28     | 1    | stream name length s                    |
 * | 29     | 1    | schema fingerprint length f             |
 * | 30     | s    | stream name, UTF-8                      |
 * | 30+s   | f    | schema fingerprint, opaque bytes        |
 * | H-4    | 4    | CRC32C of bytes 0 … H-4                 |
 */
export const CHUNK_MAGIC = Buffer.from("OPCHUNK\0", "latin1");
export const FORMAT_VERSION = 1;
/** Enough to hold any header: 34 fixed bytes, a 64-byte name, a 255-byte fingerprint. */
export const MAX_HEADER_BYTES = 34 + 64 + 255;

export interface ChunkHeader {
  chunkId: number;
  createdAt: number;
  stream: string;
  schema: Buffer;
}

export function encodeHeader(h: ChunkHeader): Buffer {
  const name = Buffer.from(h.stream, "utf8");
  const size = 34 + name.length + h.schema.length;
  const buf = Buffer.alloc(size);
  CHUNK_MAGIC.copy(buf, 0);
  buf.writeUInt16LE(FORMAT_VERSION, 8);
  buf.writeUInt16LE(size, 10);
  writeU64(buf, h.chunkId, 12);
  writeU64(buf, h.createdAt, 20);
  buf[28] = name.length;
  buf[29] = h.schema.length;
  name.copy(buf, 30);
  h.schema.copy(buf, 30 + name.length);
  buf.writeUInt32LE(crc32c(buf.subarray(0, size - 4)), size - 4);
  return buf;
}

/** The header at the start of `buf`, or undefined if it is damaged or not a chunk. */
export function decodeHeader(buf: Buffer): (ChunkHeader & { size: number }) | undefined {
  if (buf.length < 34 || !buf.subarray(0, 8).equals(CHUNK_MAGIC)) return undefined;
  if (buf.readUInt16LE(8) !== FORMAT_VERSION) return undefined;
  const size = buf.readUInt16LE(10);
  const s = buf[28] ?? 0;
  const f = buf[29] ?? 0;
  if (size !== 34 + s + f || size > buf.length) return undefined;
  if (crc32c(buf.subarray(0, size - 4)) !== buf.readUInt32LE(size - 4)) return undefined;
  return {
    chunkId: readU64(buf, 12),
    createdAt: readU64(buf, 20),
    stream: buf.toString("utf8", 30, 30 + s),
    schema: Buffer.from(buf.subarray(30 + s, 30 + s + f)),
    size,
  };
}
