import { crc32cRange } from "./crc32c.js";
import { readU64, writeU64 } from "./u64.js";

/**
 * One framed entry in a chunk file (little endian):
 *
 * | offset | size | field                                             |
 * | ------ | ---- | ------------------------------------------------- |
 * | 0      | 2    | magic `0xB7 0x1C`                                 |
 * | 2      | 1    | kind: 1 record, 2 seal trailer                    |
 * | 3      | 1    | reserved, 0                                       |
 * | 4      | 4    | payload length n                                  |
 * | 8      | 8    | sequence number (trailer: last sequence)          |
 * | 16     | n    | payload                                           |
 * | 16+n   | 4    | CRC32C of bytes 0 … 16+n                          |
 *
 * The CRC comes last so a torn write never validates; the magic lets a reader find the
 * next frame after damage and still deliver every intact record behind it.
 */
export const FRAME_MAGIC_0 = 0xb7;
export const FRAME_MAGIC_1 = 0x1c;
const MAGIC = Buffer.from([FRAME_MAGIC_0, FRAME_MAGIC_1]);
export const FRAME_OVERHEAD = 20;
export const KIND_RECORD = 1;
export const KIND_SEAL = 2;
/** Seal trailer payload: record count (u32), first sequence (u64), last sequence (u64). */
export const SEAL_PAYLOAD = 20;
export const SEAL_FRAME_BYTES = FRAME_OVERHEAD + SEAL_PAYLOAD;

export function frameSize(payloadBytes: number): number {
  return FRAME_OVERHEAD + payloadBytes;
}

/**
 * Frames `records` with consecutive sequence numbers starting at `firstSeq` into one
 * buffer, so a whole group commit is one write. With `seal`, the chunk's seal trailer
 * (`seal.count` records from `seal.firstSeq` to the last record here) follows in the
 * same buffer, so the commit that fills a chunk needs no second write.
 */
export function encodeRecords(
  records: readonly Uint8Array[],
  firstSeq: number,
  seal?: { count: number; firstSeq: number },
): Buffer {
  let total = seal ? SEAL_FRAME_BYTES : 0;
  for (const r of records) total += FRAME_OVERHEAD + r.length;
  const buf = Buffer.allocUnsafe(total);
  let off = 0;
  let seq = firstSeq;
  for (const r of records) {
    off = writeFrame(buf, off, KIND_RECORD, seq++, r);
  }
  if (seal) writeSeal(buf, off, seal.count, seal.firstSeq, seq - 1);
  return buf;
}

export function encodeSeal(count: number, firstSeq: number, lastSeq: number): Buffer {
  const buf = Buffer.allocUnsafe(SEAL_FRAME_BYTES);
  writeSeal(buf, 0, count, firstSeq, lastSeq);
  return buf;
}

function writeSeal(buf: Buffer, off: number, count: number, firstSeq: number, lastSeq: number) {
  const payload = Buffer.allocUnsafe(SEAL_PAYLOAD);
  payload.writeUInt32LE(count, 0);
  writeU64(payload, firstSeq, 4);
  writeU64(payload, lastSeq, 12);
  writeFrame(buf, off, KIND_SEAL, lastSeq, payload);
}

/** Runs once per record on the commit path, so it checksums in place (no `subarray`). */
function writeFrame(buf: Buffer, off: number, kind: number, seq: number, payload: Uint8Array) {
  const n = payload.length;
  buf[off] = FRAME_MAGIC_0;
  buf[off + 1] = FRAME_MAGIC_1;
  buf[off + 2] = kind;
  buf[off + 3] = 0;
  buf.writeUInt32LE(n, off + 4);
  writeU64(buf, seq, off + 8);
  buf.set(payload, off + 16);
  const end = off + 16 + n;
  buf.writeUInt32LE(crc32cRange(buf, off, end), end);
  return end + 4;
}

export interface Frame {
  kind: number;
  seq: number;
  start: number;
  payloadStart: number;
  payloadEnd: number;
  /** Offset just past the frame's CRC. */
  end: number;
}

/** The intact frame at `off`, or undefined if there is none (torn, damaged, or not a frame). */
export function frameAt(buf: Buffer, off: number, maxPayload: number): Frame | undefined {
  if (off + FRAME_OVERHEAD > buf.length) return undefined;
  if (buf[off] !== FRAME_MAGIC_0 || buf[off + 1] !== FRAME_MAGIC_1) return undefined;
  const kind = buf[off + 2];
  if ((kind !== KIND_RECORD && kind !== KIND_SEAL) || buf[off + 3] !== 0) return undefined;
  const n = buf.readUInt32LE(off + 4);
  if (n > maxPayload || off + FRAME_OVERHEAD + n > buf.length) return undefined;
  const payloadEnd = off + 16 + n;
  if (crc32cRange(buf, off, payloadEnd) !== buf.readUInt32LE(payloadEnd)) return undefined;
  return {
    kind,
    seq: readU64(buf, off + 8),
    start: off,
    payloadStart: off + 16,
    payloadEnd,
    end: payloadEnd + 4,
  };
}

export interface SealInfo {
  count: number;
  firstSeq: number;
  lastSeq: number;
}

export function readSeal(buf: Buffer, frame: Frame): SealInfo | undefined {
  if (frame.kind !== KIND_SEAL || frame.payloadEnd - frame.payloadStart !== SEAL_PAYLOAD) {
    return undefined;
  }
  const p = frame.payloadStart;
  return {
    count: buf.readUInt32LE(p),
    firstSeq: readU64(buf, p + 4),
    lastSeq: readU64(buf, p + 12),
  };
}

export interface ScanResult {
  records: Frame[];
  seal: SealInfo | undefined;
  /** Byte ranges that held no intact frame but had intact frames after them. */
  damaged: { offset: number; length: number }[];
  /** Where the last intact frame ends; everything after it is a torn or damaged tail. */
  validEnd: number;
}

/**
 * Reads every intact frame from `start`. After damage it resynchronises on the next
 * magic whose frame checks out, so one flipped bit costs one record, not the chunk.
 */
export function scanFrames(buf: Buffer, start: number, maxPayload: number): ScanResult {
  const records: Frame[] = [];
  const damaged: { offset: number; length: number }[] = [];
  let seal: SealInfo | undefined;
  let off = start;
  let validEnd = start;
  while (off < buf.length) {
    const frame = frameAt(buf, off, maxPayload);
    if (frame) {
      if (frame.kind === KIND_RECORD) records.push(frame);
      else seal = readSeal(buf, frame);
      off = frame.end;
      validEnd = off;
      continue;
    }
    let next = buf.indexOf(MAGIC, off + 1);
    while (next !== -1 && !frameAt(buf, next, maxPayload)) next = buf.indexOf(MAGIC, next + 1);
    if (next === -1) break;
    damaged.push({ offset: off, length: next - off });
    off = next;
  }
  return { records, seal, damaged, validEnd };
}
