import { DiskBuffer } from "../buffer/index.js";
import type { Logger } from "../common/index.js";
import type { RecordOutput } from "./input.js";
import { encodeRecord, RECORD_SCHEMA_FINGERPRINT, type TelemetryRecord } from "./record.js";

export interface BufferOutput extends RecordOutput {
  /** The buffer written to, for a forwarder to drain (`collector run` with `forward`). */
  readonly buffer: DiskBuffer;
  close(): Promise<void>;
}

/**
 * Records → Avro → `buffer.append`, tagged with the record schema's fingerprint (kept in
 * each chunk header). `write` resolves once the records are durable, so a collector that
 * is killed loses nothing it reported written.
 */
export async function openBufferOutput(
  dir: string,
  stream: string,
  logger: Logger,
): Promise<BufferOutput> {
  const buffer = await DiskBuffer.open({ dir }, { logger });
  return {
    buffer,
    async write(records: TelemetryRecord[]) {
      await buffer.append(stream, records.map(encodeRecord), { schema: RECORD_SCHEMA_FINGERPRINT });
    },
    close: () => buffer.close(),
  };
}
