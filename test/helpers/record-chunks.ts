import { deflateSync } from "node:zlib";
import avro from "avsc";
import {
  encodeRecord,
  RECORD_SCHEMA,
  RECORD_SCHEMA_FINGERPRINT,
  type TelemetryRecord,
} from "../../collector/record.js";
import { encodeRecords } from "../../common/record-frame.js";
import type { StoredChunk } from "../../master/index.js";
import { exactLong } from "../../master/readings/avro-long.js";

/** Today's collector schema as the producer announces it. */
export const RECORD_SCHEMA_TEXT = JSON.stringify(RECORD_SCHEMA);
export { RECORD_SCHEMA_FINGERPRINT };

const arrayOf = (name: string, items: string) => ({
  type: "record",
  name,
  fields: [{ name: "items", type: { type: "array", items } }],
});

/**
 * The collector's schema as issue 27 extends it: a `status` name, numeric and boolean
 * arrays in the value union (each wrapped in a named record: Avro allows one array per
 * union), an outage's bounds. Fields are found by name, so the order differs on purpose.
 */
export const EXTENDED_SCHEMA = {
  type: "record",
  name: "TelemetryRecord",
  namespace: "outpost.collector",
  fields: [
    { name: "device", type: "string" },
    { name: "tag", type: "string" },
    { name: "ts", type: "long" },
    { name: "quality", type: "string" },
    { name: "status", type: ["null", "string"], default: null },
    {
      name: "value",
      type: [
        "null",
        "boolean",
        "long",
        "double",
        "string",
        { type: "fixed", name: "UInt64", size: 8 },
        arrayOf("DoubleArray", "double"),
        arrayOf("LongArray", "long"),
        arrayOf("BooleanArray", "boolean"),
      ],
    },
    { name: "unit", type: ["null", "string"], default: null },
    { name: "serverTs", type: ["null", "long"], default: null },
    { name: "outageFrom", type: ["null", "long"], default: null },
    { name: "outageTo", type: ["null", "long"], default: null },
  ],
};

/** An avsc type of `schema` that writes longs exactly (bigints), as the master reads them. */
export function schemaType(schema: object): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, {
    registry: { long: exactLong },
    wrapUnions: true,
  });
}

export function fingerprintOf(schema: object): Buffer {
  return schemaType(schema).fingerprint("sha256");
}

export interface ChunkOptions {
  firstSeq?: number;
  schema?: Uint8Array;
  compression?: "none" | "deflate";
  receivedAt?: number;
  stream?: string;
}

/** A chunk of encoded records (collector records, or payloads already encoded). */
export function recordChunk(
  node: string,
  chunkId: number,
  records: readonly (TelemetryRecord | Buffer)[],
  options: ChunkOptions = {},
): StoredChunk {
  const firstSeq = options.firstSeq ?? chunkId * 1000 + 1;
  const payloads = records.map((r) => (Buffer.isBuffer(r) ? r : encodeRecord(r)));
  const frames = encodeRecords(payloads, firstSeq);
  const compression = options.compression ?? "none";
  return {
    node,
    chunkId,
    stream: options.stream ?? "telemetry",
    schema: options.schema ?? RECORD_SCHEMA_FINGERPRINT,
    createdAt: 1_000,
    firstSeq,
    lastSeq: firstSeq + payloads.length - 1,
    records: payloads.length,
    compression,
    body: compression === "deflate" ? deflateSync(frames) : frames,
    receivedAt: options.receivedAt ?? Date.now(),
  };
}

/** Everything an async iterable yields. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Every item of every page, in order (a store's `readingPages`). */
export async function collectPages<T>(pages: AsyncIterable<readonly T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...page);
  return out;
}
