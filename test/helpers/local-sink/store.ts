import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { crc32c } from "@node-rs/crc32";
import { type LossEvent, type OutboundChunk, scanFrames } from "../../../buffer/index.js";
import { decodeChunk, TYPE_CHUNK, TYPE_LOSS } from "./protocol.js";

/**
 * The local sink's log, `sink.log`: entries of [u32 length][u32 CRC32C of the rest]
 * [u8 type][payload as on the wire], appended and fdatasynced before the ack. Each chunk
 * id and loss id is stored at most once.
 */
export const SINK_LOG = "sink.log";

export function encodeEntry(type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUInt32LE(payload.length + 1, 0);
  head[8] = type;
  const crc = crc32c(payload, crc32c(head.subarray(8, 9)));
  head.writeUInt32LE(crc, 4);
  return Buffer.concat([head, payload]);
}

export interface StoredRecord {
  seq: number;
  payload: Buffer;
}

export interface SinkStore {
  chunks: (OutboundChunk & { stored: StoredRecord[] })[];
  losses: LossEvent[];
  /** Bytes of the log that are intact entries. */
  validBytes: number;
}

/** Decodes a chunk body back to its records, verifying every frame's CRC. */
export function recordsOf(chunk: OutboundChunk): StoredRecord[] {
  const body = Buffer.from(chunk.compression === "deflate" ? inflateSync(chunk.body) : chunk.body);
  const scan = scanFrames(body, 0, 1 << 24);
  if (
    scan.damaged.length > 0 ||
    scan.validEnd !== body.length ||
    scan.records.length !== chunk.records
  ) {
    throw new Error(`chunk ${chunk.chunkId}: body does not check out`);
  }
  return scan.records.map((f) => ({
    seq: f.seq,
    payload: Buffer.from(body.subarray(f.payloadStart, f.payloadEnd)),
  }));
}

export function parseLog(buf: Buffer): SinkStore {
  const store: SinkStore = { chunks: [], losses: [], validBytes: 0 };
  let off = 0;
  while (off + 9 <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (off + 8 + len > buf.length) break;
    const body = buf.subarray(off + 8, off + 8 + len);
    if (crc32c(body) !== buf.readUInt32LE(off + 4)) break;
    const payload = body.subarray(1);
    if (body[0] === TYPE_CHUNK) {
      const chunk = decodeChunk(payload);
      store.chunks.push({ ...chunk, stored: recordsOf(chunk) });
    } else if (body[0] === TYPE_LOSS) {
      store.losses.push(JSON.parse(payload.toString("utf8")) as LossEvent);
    }
    off += 8 + len;
    store.validBytes = off;
  }
  return store;
}

export function readSinkStore(dir: string): SinkStore {
  try {
    return parseLog(readFileSync(join(dir, SINK_LOG)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      return { chunks: [], losses: [], validBytes: 0 };
    throw err;
  }
}
