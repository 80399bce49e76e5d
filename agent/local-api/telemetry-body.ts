import type { ErrorObject, ValidateFunction } from "ajv";
import { Decoder } from "cbor-x";
import { type LossEvent, type OutboundChunk, STREAM_NAME } from "../../buffer/index.js";
import { cborAjv } from "../../protocol/index.js";

/**
 * Each partition's buffer counts chunk and loss ids from 0, but the master dedupes per
 * node: the relay sends id `i` of partition `p` in its epoch `e` (bumped each time the
 * partition is reset for a new instance, so a redeployed buffer counting from 0 again is
 * new data, not duplicates) as `p * 2^45 + (e mod 2^11) * 2^34 + i`. Deterministic, so a
 * resend maps to the same id; partitions 1..255 stay below 2^53 (exact in a double).
 */
export const LOCAL_ID_SPAN = 2 ** 34;
/** Epochs wrap after this many resets of one partition. */
export const EPOCH_SPAN = 2 ** 11;
const PARTITION_SPAN = LOCAL_ID_SPAN * EPOCH_SPAN;

/** Largest telemetry or loss body the local API reads (the master link's message limit). */
export const MAX_TELEMETRY_BODY = 16 * 1024 * 1024;

/** The id the master sees for id `id` (below 2^34) of partition `partition` in `epoch`. */
export function relayedId(partition: number, epoch: number, id: number): number {
  return partition * PARTITION_SPAN + (epoch % EPOCH_SPAN) * LOCAL_ID_SPAN + id;
}

/** The partition, epoch (mod 2^11) and local id behind an id the master holds. */
export function partitionIdOf(relayed: number): { partition: number; epoch: number; id: number } {
  return {
    partition: Math.floor(relayed / PARTITION_SPAN),
    epoch: Math.floor((relayed % PARTITION_SPAN) / LOCAL_ID_SPAN),
    id: relayed % LOCAL_ID_SPAN,
  };
}

// Plain CBOR, as on the master link: no cbor-x record extensions, maps as objects.
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

const partitionId = { type: "integer", minimum: 0, maximum: LOCAL_ID_SPAN - 1 } as const;
const u53 = { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const stream = { type: "string", pattern: STREAM_NAME.source } as const;

/** buffer's `OutboundChunk`; byte strings use the `bytes` keyword below. */
const chunkSchema = {
  type: "object",
  additionalProperties: false,
  required: [
    "chunkId",
    "stream",
    "schema",
    "createdAt",
    "firstSeq",
    "lastSeq",
    "records",
    "compression",
    "body",
  ],
  properties: {
    chunkId: partitionId,
    stream,
    schema: { bytes: { maxLength: 255 } },
    createdAt: u53,
    firstSeq: u53,
    lastSeq: u53,
    records: u53,
    compression: { enum: ["none", "deflate"] },
    body: { bytes: { maxLength: MAX_TELEMETRY_BODY } },
  },
} as const;

/** buffer's `LossEvent`. */
const lossSchema = {
  type: "object",
  additionalProperties: false,
  required: ["id", "stream", "reason", "chunkId", "fromSeq", "toSeq", "records", "at"],
  properties: {
    id: partitionId,
    stream,
    reason: { enum: ["overflow", "corrupt"] },
    chunkId: partitionId,
    fromSeq: u53,
    toSeq: u53,
    records: u53,
    at: u53,
  },
} as const;

/** What a forwarder tells the agent of its buffer (`POST /v1/buffer`). */
export interface BacklogBody {
  records: number;
  bytes: number;
  oldestAgeMs: number;
}

const backlogSchema = {
  type: "object",
  additionalProperties: false,
  required: ["records", "bytes", "oldestAgeMs"],
  properties: { records: u53, bytes: u53, oldestAgeMs: u53 },
} as const;

const ajv = cborAjv();

const validateChunk = ajv.compile(chunkSchema);
const validateLoss = ajv.compile(lossSchema);
const validateBacklog = ajv.compile(backlogSchema);

/** Pure: the backlog a `POST /v1/buffer` body holds, or why it is refused. */
export function parseBacklogBody(bytes: Uint8Array): BacklogBody | string {
  const value = decodeChecked(bytes, validateBacklog, "buffer backlog");
  if (typeof value === "string") return value;
  const b = value as unknown as BacklogBody;
  return { records: b.records, bytes: b.bytes, oldestAgeMs: b.oldestAgeMs };
}

/** Pure: the chunk a `POST /v1/telemetry` body holds, or why it is refused. */
export function parseChunkBody(bytes: Uint8Array): OutboundChunk | string {
  const value = decodeChecked(bytes, validateChunk, "OutboundChunk");
  if (typeof value === "string") return value;
  const c = value as unknown as OutboundChunk;
  if (c.lastSeq < c.firstSeq) return `lastSeq ${c.lastSeq} is below firstSeq ${c.firstSeq}`;
  return {
    chunkId: c.chunkId,
    stream: c.stream,
    schema: asBuffer(c.schema),
    createdAt: c.createdAt,
    firstSeq: c.firstSeq,
    lastSeq: c.lastSeq,
    records: c.records,
    compression: c.compression,
    body: asBuffer(c.body),
  };
}

/** Pure: the loss event a `POST /v1/loss` body holds, or why it is refused. */
export function parseLossBody(bytes: Uint8Array): LossEvent | string {
  const value = decodeChecked(bytes, validateLoss, "LossEvent");
  if (typeof value === "string") return value;
  const l = value as unknown as LossEvent;
  if (l.toSeq < l.fromSeq) return `toSeq ${l.toSeq} is below fromSeq ${l.fromSeq}`;
  return {
    id: l.id,
    stream: l.stream,
    reason: l.reason,
    chunkId: l.chunkId,
    fromSeq: l.fromSeq,
    toSeq: l.toSeq,
    records: l.records,
    at: l.at,
  };
}

function decodeChecked(
  bytes: Uint8Array,
  validate: ValidateFunction,
  what: string,
): Record<string, unknown> | string {
  if (bytes.length === 0) return "body is empty";
  if (bytes.length > MAX_TELEMETRY_BODY) return `body larger than ${MAX_TELEMETRY_BODY} bytes`;
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch (err) {
    return `body is not CBOR (${err instanceof Error ? err.message : String(err)})`;
  }
  // cbor-x gives a Map for a map it cannot make a plain object of (e.g. a `__proto__` key).
  if (
    typeof value !== "object" ||
    value === null ||
    Object.getPrototypeOf(value) !== Object.prototype
  )
    return `body must be a CBOR map of ${what} fields`;
  if (!validate(value)) return formatError(validate.errors?.[0]);
  return value as Record<string, unknown>;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

function formatError(error: ErrorObject | undefined): string {
  if (!error) return "invalid";
  const where = error.instancePath === "" ? "" : `${error.instancePath.slice(1)}: `;
  if (error.keyword === "additionalProperties")
    return `${where}unknown field '${String(error.params.additionalProperty)}'`;
  if (error.keyword === "required")
    return `${where}missing field '${String(error.params.missingProperty)}'`;
  if (error.keyword === "maximum" && error.params.limit === LOCAL_ID_SPAN - 1)
    return `${where}must be below 2^34 (ids are namespaced per partition and epoch)`;
  return `${where}${error.message ?? "invalid"}`;
}
