import type { LossEvent, OutboundChunk } from "../../../buffer/index.js";

/**
 * The local test sink's wire format over TCP: frames of [u32 length][u8 type][payload],
 * little endian. CHUNK and LOSS go to the sink; ACK comes back once the sink's fsync
 * covered the item. The sink's log stores the same payloads.
 *
 * CHUNK payload: u64 chunk id, u64 first seq, u64 last seq, u32 records, u64 created at,
 * u8 compression (0 none, 1 deflate), u8 stream length, stream, u8 schema length, schema,
 * body (the rest). LOSS payload: the loss event as JSON. ACK payload: u8 kind (1 chunk,
 * 2 loss), u64 id.
 */
export const TYPE_CHUNK = 1;
export const TYPE_LOSS = 2;
export const TYPE_ACK = 3;

const TWO_32 = 0x1_0000_0000;
function w64(buf: Buffer, v: number, off: number) {
  buf.writeUInt32LE(v >>> 0, off);
  buf.writeUInt32LE(Math.floor(v / TWO_32), off + 4);
}
function r64(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * TWO_32;
}

export function frame(type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(payload.length + 1, 0);
  head[4] = type;
  return Buffer.concat([head, payload]);
}

export function encodeChunk(c: OutboundChunk): Buffer {
  const stream = Buffer.from(c.stream, "utf8");
  const head = Buffer.alloc(38 + stream.length + 1 + c.schema.length);
  w64(head, c.chunkId, 0);
  w64(head, c.firstSeq, 8);
  w64(head, c.lastSeq, 16);
  head.writeUInt32LE(c.records, 24);
  w64(head, c.createdAt, 28);
  head[36] = c.compression === "deflate" ? 1 : 0;
  head[37] = stream.length;
  stream.copy(head, 38);
  head[38 + stream.length] = c.schema.length;
  head.set(c.schema, 39 + stream.length);
  return Buffer.concat([head, c.body]);
}

export function decodeChunk(p: Buffer): OutboundChunk {
  const s = p[37] ?? 0;
  const f = p[38 + s] ?? 0;
  return {
    chunkId: r64(p, 0),
    firstSeq: r64(p, 8),
    lastSeq: r64(p, 16),
    records: p.readUInt32LE(24),
    createdAt: r64(p, 28),
    compression: p[36] === 1 ? "deflate" : "none",
    stream: p.toString("utf8", 38, 38 + s),
    schema: Buffer.from(p.subarray(39 + s, 39 + s + f)),
    body: Buffer.from(p.subarray(39 + s + f)),
  };
}

export function encodeLoss(loss: LossEvent): Buffer {
  return Buffer.from(JSON.stringify(loss), "utf8");
}

export function encodeAck(kind: 1 | 2, id: number): Buffer {
  const p = Buffer.alloc(9);
  p[0] = kind;
  w64(p, id, 1);
  return p;
}

export function decodeAck(p: Buffer): { kind: number; id: number } {
  return { kind: p[0] ?? 0, id: r64(p, 1) };
}

/** Splits a byte stream into frames; keeps the incomplete rest for the next call. */
export class FrameReader {
  private rest: Buffer = Buffer.alloc(0);

  push(data: Buffer): { type: number; payload: Buffer }[] {
    this.rest = this.rest.length === 0 ? data : Buffer.concat([this.rest, data]);
    const out: { type: number; payload: Buffer }[] = [];
    let off = 0;
    while (this.rest.length - off >= 4) {
      const len = this.rest.readUInt32LE(off);
      if (this.rest.length - off - 4 < len) break;
      out.push({
        type: this.rest[off + 4] ?? 0,
        payload: this.rest.subarray(off + 5, off + 4 + len),
      });
      off += 4 + len;
    }
    this.rest = this.rest.subarray(off);
    return out;
  }
}
