import { DiskBuffer } from "../buffer/index.js";
import type { Logger } from "../common/index.js";
import type { RecordOutput } from "./input.js";
import {
  encodeRecord,
  RECORD_SCHEMA,
  RECORD_SCHEMA_FINGERPRINT,
  type TelemetryRecord,
} from "./record.js";

export interface BufferOutput extends RecordOutput {
  /** The buffer written to, for a forwarder to drain (`collector run` with `forward`). */
  readonly buffer: DiskBuffer;
  close(): Promise<void>;
}

/**
 * Records → Avro → `buffer.append`, tagged with the record schema's fingerprint (kept in
 * each chunk header). The schema's text is defined on the buffer under that fingerprint,
 * so its forwarder gives it to the master before the first chunk (the master decodes
 * the chunks by it). `write` resolves once the records are durable, so a collector that
 * is killed loses nothing it reported written.
 */
export async function openBufferOutput(
  dir: string,
  stream: string,
  logger: Logger,
): Promise<BufferOutput> {
  const buffer = await DiskBuffer.open({ dir }, { logger });
  try {
    await buffer.defineSchema(RECORD_SCHEMA_FINGERPRINT, JSON.stringify(RECORD_SCHEMA));
  } catch (err) {
    await buffer.close();
    throw err;
  }
  return {
    buffer,
    async write(records: TelemetryRecord[]) {
      await buffer.append(stream, records.map(encodeRecord), { schema: RECORD_SCHEMA_FINGERPRINT });
    },
    close: () => buffer.close(),
  };
}
