import { DiskBuffer } from "../buffer/index.js";
import type { Logger } from "../common/index.js";
import type { RecordOutput, WriteResult } from "./input.js";
import { Quality } from "./quality.js";
import { encodeRecord, RECORD_SCHEMA_FINGERPRINT, type TelemetryRecord } from "./record.js";
import { RECORD_SCHEMA_TEXTS } from "./record-schema.js";

export interface BufferOutput extends RecordOutput {
  /** The buffer written to, for a forwarder to drain (`collector run` with `forward`). */
  readonly buffer: DiskBuffer;
  write(records: TelemetryRecord[]): Promise<WriteResult>;
  close(): Promise<void>;
}

/**
 * The record that takes an oversize record's place: same device, tag and times, no
 * value, `too_large` with the size in `status`, so the tag's failure shows downstream.
 */
function tooLargeRecord(r: TelemetryRecord, bytes: number, maxBytes: number): TelemetryRecord {
  const out: TelemetryRecord = {
    device: r.device,
    tag: r.tag,
    ts: r.ts,
    value: null,
    quality: Quality.tooLarge,
    status: `${bytes} bytes > ${maxBytes}`,
  };
  if (r.unit !== undefined) out.unit = r.unit;
  if (r.serverTs !== undefined) out.serverTs = r.serverTs;
  return out;
}

/**
 * Records → Avro → `buffer.append`, tagged with the record schema's fingerprint (kept in
 * each chunk header). The schema's text is defined on the buffer under that fingerprint,
 * so its forwarder gives it to the master before the first chunk (the master decodes
 * the chunks by it). `write` resolves once the records are durable, so a collector that
 * is killed loses nothing it reported written. A record larger than the buffer's
 * `maxRecordBytes` would make the buffer refuse the whole append: it is replaced by a
 * `too_large` record of its tag and counted, and the rest of the append goes through.
 * Earlier record schemas are defined too, for chunks written before an upgrade.
 */
export async function openBufferOutput(
  dir: string,
  stream: string,
  logger: Logger,
): Promise<BufferOutput> {
  const buffer = await DiskBuffer.open({ dir }, { logger });
  try {
    for (const [fingerprint, text] of RECORD_SCHEMA_TEXTS) {
      await buffer.defineSchema(fingerprint, text);
    }
  } catch (err) {
    await buffer.close();
    throw err;
  }
  const maxBytes = buffer.config.maxRecordBytes;
  return {
    buffer,
    async write(records: TelemetryRecord[]) {
      let tooLarge = 0;
      const encoded = records.map((r) => {
        const bytes = encodeRecord(r);
        if (bytes.length <= maxBytes) return bytes;
        tooLarge++;
        return encodeRecord(tooLargeRecord(r, bytes.length, maxBytes));
      });
      await buffer.append(stream, encoded, { schema: RECORD_SCHEMA_FINGERPRINT });
      return { tooLarge };
    },
    close: () => buffer.close(),
  };
}
