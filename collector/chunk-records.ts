import { inflateSync } from "node:zlib";
import { scanFrames } from "../buffer/index.js";
import { decodeRecord, isRecordSchema, type TagValue, type TelemetryRecord } from "./record.js";

/** Larger than any record the collector writes; a bound for the frame scan. */
const MAX_RECORD_BYTES = 1 << 20;

/** Whether a chunk's schema fingerprint is one of the collector's record schemas. */
export function isRecordChunk(schema: Uint8Array): boolean {
  return isRecordSchema(schema);
}

/**
 * The records of a forwarded chunk body (buffer frames, maybe deflated), each with its
 * sequence number; `schema` is the chunk header's fingerprint (records of an earlier
 * schema are resolved). Damaged frames are skipped, as the buffer does; a record that
 * does not decode is skipped too: this is for displays, not for the store of record.
 */
export function decodeChunkRecords(
  body: Uint8Array,
  compression: "none" | "deflate",
  schema?: Uint8Array,
): { seq: number; record: TelemetryRecord }[] {
  const frames = compression === "deflate" ? inflateSync(body) : Buffer.from(body);
  const out: { seq: number; record: TelemetryRecord }[] = [];
  for (const f of scanFrames(frames, 0, MAX_RECORD_BYTES).records) {
    try {
      out.push({
        seq: f.seq,
        record: decodeRecord(frames.subarray(f.payloadStart, f.payloadEnd), schema),
      });
    } catch {
      // Not one of ours: skipped.
    }
  }
  return out;
}

/** A reading the status page can chart: a scalar value. */
export interface ScalarReading extends Pick<TelemetryRecord, "device" | "tag" | "ts" | "unit"> {
  value: Exclude<TagValue, unknown[]>;
}

const isScalar = (r: TelemetryRecord): r is TelemetryRecord & ScalarReading =>
  !Array.isArray(r.value);

/**
 * The readings of a chunk for a display (the master's status page): good-quality
 * scalar records of the collector's schemas only; any other chunk gives none.
 */
export function chunkReadings(chunk: {
  schema: Uint8Array;
  body: Uint8Array;
  compression: "none" | "deflate";
}): ScalarReading[] {
  if (!isRecordChunk(chunk.schema)) return [];
  return decodeChunkRecords(chunk.body, chunk.compression, chunk.schema)
    .map(({ record }) => record)
    .filter((r) => r.quality === "good")
    .filter(isScalar)
    .map(({ device, tag, ts, value, unit }) => ({
      device,
      tag,
      ts,
      value,
      ...(unit !== undefined ? { unit } : {}),
    }));
}
