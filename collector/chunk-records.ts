import { inflateSync } from "node:zlib";
import { scanFrames } from "../buffer/index.js";
import { decodeRecord, RECORD_SCHEMA_FINGERPRINT, type TelemetryRecord } from "./record.js";

/** Larger than any record the collector writes; a bound for the frame scan. */
const MAX_RECORD_BYTES = 1 << 20;

/** Whether a chunk's schema fingerprint is the collector's record schema. */
export function isRecordChunk(schema: Uint8Array): boolean {
  return Buffer.from(schema).equals(RECORD_SCHEMA_FINGERPRINT);
}

/**
 * The records of a forwarded chunk body (buffer frames, maybe deflated), each with its
 * sequence number. Damaged frames are skipped, as the buffer does; a record that does
 * not decode is skipped too: this is for displays, not for the store of record.
 */
export function decodeChunkRecords(
  body: Uint8Array,
  compression: "none" | "deflate",
): { seq: number; record: TelemetryRecord }[] {
  const frames = compression === "deflate" ? inflateSync(body) : Buffer.from(body);
  const out: { seq: number; record: TelemetryRecord }[] = [];
  for (const f of scanFrames(frames, 0, MAX_RECORD_BYTES).records) {
    try {
      out.push({ seq: f.seq, record: decodeRecord(frames.subarray(f.payloadStart, f.payloadEnd)) });
    } catch {
      // Not one of ours: skipped.
    }
  }
  return out;
}

/**
 * The readings of a chunk for a display (the master's status page): good-quality
 * records of the collector's schema only; any other chunk gives none.
 */
export function chunkReadings(chunk: {
  schema: Uint8Array;
  body: Uint8Array;
  compression: "none" | "deflate";
}): Pick<TelemetryRecord, "device" | "tag" | "ts" | "value" | "unit">[] {
  if (!isRecordChunk(chunk.schema)) return [];
  return decodeChunkRecords(chunk.body, chunk.compression)
    .filter(({ record }) => record.quality === "good")
    .map(({ record: { device, tag, ts, value, unit } }) => ({
      device,
      tag,
      ts,
      value,
      ...(unit !== undefined ? { unit } : {}),
    }));
}
