import type { TelemetryRecord } from "../../collector/index.js";
import type { Logger } from "../../common/index.js";
import type { CliIo } from "../io.js";

/** A record as the buffer stores it, with the schema fingerprint of its chunk. */
export interface StoredRecord {
  chunkId: number;
  seq: number;
  schema: Buffer | undefined;
  payload: Buffer;
}

export interface RecordDecoder {
  /**
   * The collector record a payload holds when its chunk's fingerprint is one of the
   * collector's record schemas, undefined for any other chunk; throws when it does not
   * decode.
   */
  decode(r: StoredRecord): TelemetryRecord | undefined;
  /** The one JSON form of a record (`collector read --json`): 64-bit integers as decimal strings. */
  jsonLine(r: TelemetryRecord): string;
}

/**
 * The buffer knows nothing of Avro, so the choice of how a stored record prints is made
 * here, where both components may be imported; the collector loads on first use.
 */
export async function loadRecordDecoder(): Promise<RecordDecoder> {
  const { decodeRecord, isRecordSchema, recordToJsonLine } = await import(
    "../../collector/index.js"
  );
  return {
    decode: (r) =>
      r.schema && isRecordSchema(r.schema) ? decodeRecord(r.payload, r.schema) : undefined,
    jsonLine: recordToJsonLine,
  };
}

/**
 * A stored record's output line: a collector record as `render` says, anything else as
 * stored (what `buffer push` stores is NDJSON already). A collector record that does not
 * decode is logged (`buffer.record_undecodable`, with chunk and sequence) and left out.
 */
export function lineOf(
  r: StoredRecord,
  decoder: RecordDecoder,
  render: (record: TelemetryRecord) => string,
  logger: Logger,
): Buffer | undefined {
  let record: TelemetryRecord | undefined;
  try {
    record = decoder.decode(r);
  } catch (err) {
    logger.warn(
      { chunkId: r.chunkId, seq: r.seq, err: (err as Error).message },
      "buffer.record_undecodable",
    );
    return undefined;
  }
  return record ? Buffer.from(`${render(record)}\n`) : Buffer.concat([r.payload, NEWLINE]);
}

const NEWLINE = Buffer.from("\n");

/** Writes to stdout and waits until it took the data (backpressure for long outputs). */
export function writeOut(io: CliIo, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    io.stdout.write(data, (err) => (err ? reject(err) : resolve()));
  });
}
