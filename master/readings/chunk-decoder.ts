import { inflateSync } from "node:zlib";
import { scanFrames } from "../../common/record-frame.js";
import type { DecodedRecord, RecordReader } from "./record-reader.js";

/** Largest body a deflated chunk may inflate to: a bound against deflate bombs. */
export const MAX_INFLATED_BYTES = 64 * 1024 * 1024;
/** Largest record frame read (the link's message limit). */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** What a chunk's decode needs of it. */
export interface ChunkBody {
  body: Uint8Array;
  compression: "none" | "deflate";
  firstSeq: number;
  lastSeq: number;
  records: number;
}

/**
 * A chunk's records as readings, all or none: the body must be whole (every frame
 * intact, nothing after the last), hold as many records as the chunk says, with
 * sequence numbers rising inside its range, and every record must decode. Throws an
 * Error saying what is wrong otherwise: the caller keeps the chunk raw with that reason.
 */
export function decodeChunk(chunk: ChunkBody, read: RecordReader): DecodedRecord[] {
  const frames = inflated(chunk);
  const scan = scanFrames(frames, 0, MAX_RECORD_BYTES);
  const damage = scan.damaged[0];
  if (damage) throw new Error(`body damaged at byte ${damage.offset} (${damage.length} bytes)`);
  if (scan.validEnd !== frames.length)
    throw new Error(`body damaged from byte ${scan.validEnd} to its end (${frames.length})`);
  if (scan.records.length !== chunk.records)
    throw new Error(`body holds ${scan.records.length} records, the chunk says ${chunk.records}`);
  const out: DecodedRecord[] = new Array(scan.records.length);
  let previous = -1;
  for (let i = 0; i < scan.records.length; i++) {
    const f = scan.records[i] as (typeof scan.records)[number];
    if (f.seq <= previous || f.seq < chunk.firstSeq || f.seq > chunk.lastSeq)
      throw new Error(
        `record ${f.seq} is out of order or outside the chunk's range ${chunk.firstSeq}..${chunk.lastSeq}`,
      );
    previous = f.seq;
    try {
      out[i] = read(frames, f.payloadStart, f.payloadEnd, f.seq);
    } catch (err) {
      throw new Error(`record ${f.seq}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return out;
}

function inflated(chunk: ChunkBody): Buffer {
  const body = Buffer.from(chunk.body.buffer, chunk.body.byteOffset, chunk.body.byteLength);
  if (chunk.compression === "none") return body;
  try {
    return inflateSync(body, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (err) {
    throw new Error(`body does not inflate (${err instanceof Error ? err.message : String(err)})`);
  }
}
