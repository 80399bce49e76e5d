import { STREAM_NAME } from "../../buffer/index.js";
import {
  type Backlog,
  CHUNK_REQUIRED,
  type Chunk,
  chunkFields,
  LOSS_REQUIRED,
  lossFields,
  SCHEMA_TEXT_MAX,
} from "../../protocol/index.js";

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

/** Largest telemetry body the local API reads (the master link's message limit). */
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

// The wire's fields (protocol's chunkFields, lossFields), held to what a partition may
// send: ids below 2^34 (the relay namespaces them), streams as the buffer names them.
const partitionId = {
  type: "integer",
  minimum: 0,
  maximum: LOCAL_ID_SPAN - 1,
  description: "below 2^34: the agent namespaces ids per partition and epoch",
} as const;
const stream = { type: "string", pattern: STREAM_NAME.source } as const;
const u53 = { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

/**
 * A post's backlog (all three or none): what the sender's buffer holds besides what it
 * has in flight, and the age of its oldest undelivered chunk (buffer's `Sink`).
 */
const backlogFields = {
  backlogRecords: { ...u53, description: "records waiting besides those in flight" },
  backlogBytes: { ...u53, description: "their bytes" },
  backlogAgeMs: { ...u53, description: "age of the oldest undelivered chunk, ms" },
} as const;
const backlogTogether = {
  backlogRecords: ["backlogBytes", "backlogAgeMs"],
  backlogBytes: ["backlogRecords", "backlogAgeMs"],
  backlogAgeMs: ["backlogRecords", "backlogBytes"],
} as const;

const { body: _body, schema: _schema, ...envelope } = chunkFields;

/** `POST /v1/telemetry`: a `Chunk` but its body, plus the backlog, as the query. */
export const chunkQuerySchema = {
  title: "chunk",
  type: "object",
  additionalProperties: false,
  required: CHUNK_REQUIRED.filter((k) => k !== "body"),
  dependencies: backlogTogether,
  properties: {
    ...envelope,
    chunkId: partitionId,
    stream,
    schema: {
      type: "string",
      pattern: "^(?:[0-9a-f]{2}){0,255}$",
      description: "the records' schema fingerprint, hex",
    },
    ...backlogFields,
  },
} as const;

/** `POST /v1/loss`: a `Loss` as the JSON body. */
export const lossBodySchema = {
  title: "loss",
  type: "object",
  additionalProperties: false,
  required: LOSS_REQUIRED,
  properties: { ...lossFields, id: partitionId, chunkId: partitionId, stream },
} as const;

/** `POST /v1/loss`: the backlog as the query. */
export const backlogQuerySchema = {
  title: "backlog",
  type: "object",
  additionalProperties: false,
  dependencies: backlogTogether,
  properties: backlogFields,
} as const;

/** Largest schema text `POST /v1/schema` reads (what the master takes at most). */
export const MAX_SCHEMA_BODY = SCHEMA_TEXT_MAX;

/** `POST /v1/schema`: the fingerprint as the query, the schema text as the body. */
export const schemaQuerySchema = {
  title: "schema",
  type: "object",
  additionalProperties: false,
  required: ["fingerprint"],
  properties: {
    fingerprint: {
      type: "string",
      pattern: "^(?:[0-9a-f]{2}){1,255}$",
      description: "the fingerprint chunks carry in `schema`, hex",
    },
  },
} as const;

export interface SchemaQuery {
  fingerprint: string;
}

export type ChunkQuery = Omit<Chunk, "schema" | "body"> & { schema: string } & BacklogQuery;

export interface BacklogQuery {
  backlogRecords?: number;
  backlogBytes?: number;
  backlogAgeMs?: number;
}

/** The query a chunk and its sender's backlog travel in (`LocalApiSink`). */
export function chunkQuery(chunk: Chunk, waiting?: Backlog): URLSearchParams {
  const { body: _, schema, ...fields } = chunk;
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) query.set(k, String(v));
  query.set("schema", Buffer.from(schema).toString("hex"));
  for (const [k, v] of Object.entries(backlogQuery(waiting))) query.set(k, String(v));
  return query;
}

/** The backlog fields of a post's query. */
export function backlogQuery(waiting: Backlog | undefined): BacklogQuery {
  return waiting
    ? {
        backlogRecords: waiting.records,
        backlogBytes: waiting.bytes,
        backlogAgeMs: waiting.oldestAgeMs,
      }
    : {};
}

/** Pure: the chunk a validated query and its body make. */
export function chunkOfQuery(query: ChunkQuery, body: Buffer): Chunk {
  return {
    chunkId: query.chunkId,
    stream: query.stream,
    schema: Buffer.from(query.schema, "hex"),
    createdAt: query.createdAt,
    firstSeq: query.firstSeq,
    lastSeq: query.lastSeq,
    records: query.records,
    compression: query.compression,
    body,
  };
}

/** Pure: the backlog a validated query carries, if any. */
export function backlogOfQuery(query: BacklogQuery): Backlog | undefined {
  const { backlogRecords, backlogBytes, backlogAgeMs } = query;
  if (backlogRecords === undefined || backlogBytes === undefined || backlogAgeMs === undefined)
    return undefined;
  return { records: backlogRecords, bytes: backlogBytes, oldestAgeMs: backlogAgeMs };
}
