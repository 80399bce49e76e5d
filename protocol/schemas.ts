/**
 * JSON Schemas for every message of protocol versions 1 and 2 (draft 2020-12 subset ajv
 * understands). Requests and replies are the same in both; version 2 adds the master's
 * push (`wake`). Byte strings use the `bytes` keyword defined in validate.ts: CBOR
 * carries them natively and JSON Schema has no type for them.
 */
import { PUSH_SINCE_VERSION, SUPPORTED_VERSIONS } from "./messages.js";

/** Longest text a report may carry in one field (promise messages, connection values). */
export const REPORT_TEXT_MAX = 4096;

const u53 = { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const u32 = { type: "integer", minimum: 0, maximum: 0xffffffff } as const;
const name = { type: "string", minLength: 1, maxLength: 128 } as const;
const shortText = { type: "string", maxLength: 256 } as const;
const key = {
  type: "string",
  minLength: 40,
  maxLength: 40,
  pattern: "^[0-9a-zA-Z.:+=^!/*?&<>()\\[\\]{}@%$#-]{40}$",
} as const;
/** Requests and replies: either version (a reply carries its request's). */
const version = { enum: [...SUPPORTED_VERSIONS] } as const;
const cpuId = { type: "integer", minimum: 0, maximum: 4095 } as const;
const stringMap = {
  type: "object",
  maxProperties: 256,
  propertyNames: { maxLength: 128 },
  additionalProperties: { type: "string", maxLength: REPORT_TEXT_MAX },
} as const;

function request(type: string, properties: Record<string, object>, required: string[]) {
  return {
    type: "object",
    additionalProperties: false,
    required: ["v", "id", "node", "type", ...required],
    properties: { v: version, id: u32, node: key, type: { const: type }, ...properties },
  };
}

function reply(type: string, properties: Record<string, object>, required: string[]) {
  return {
    type: "object",
    additionalProperties: false,
    required: ["v", "id", "type", ...required],
    properties: { v: version, id: u32, type: { const: type }, ...properties },
  };
}

export const helloSchema = request(
  "hello",
  {
    agentVersion: shortText,
    arch: shortText,
    board: shortText,
    cpus: { type: "integer", minimum: 1, maximum: 4096 },
    partitions: { type: "integer", minimum: 0, maximum: 4096 },
    isolatedCores: { type: "array", maxItems: 4096, uniqueItems: true, items: cpuId },
  },
  ["agentVersion", "arch", "board", "cpus", "partitions", "isolatedCores"],
);

export const syncSchema = request("sync", {}, []);

const promiseResult = {
  type: "object",
  additionalProperties: false,
  required: ["name", "ok", "checkedAt"],
  properties: {
    name,
    ok: { type: "boolean" },
    message: { type: "string", maxLength: REPORT_TEXT_MAX },
    checkedAt: u53,
  },
} as const;

const instanceStatus = {
  enum: ["installing", "starting", "running", "failed", "stopped", "destroyed"],
} as const;
const requestName = { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,62}$" } as const;
const softwareUrl = { type: "string", minLength: 1, maxLength: 2048 } as const;

const secretKeys = {
  type: "array",
  maxItems: 256,
  items: { type: "string", maxLength: 128 },
} as const;

const instanceRequestSpec = {
  type: "object",
  additionalProperties: false,
  required: ["name", "software", "parameters"],
  properties: {
    name: requestName,
    software: softwareUrl,
    parameters: stringMap,
    secrets: secretKeys,
  },
} as const;

/** One instance of a report: the master checks each on its own (see validateInstanceReports). */
export const instanceReportSchema = {
  type: "object",
  additionalProperties: false,
  required: ["name", "status", "promises", "connection"],
  properties: {
    name,
    status: instanceStatus,
    promises: { type: "array", maxItems: 256, items: promiseResult },
    connection: stringMap,
    requests: { type: "array", maxItems: 64, items: instanceRequestSpec },
    buffer: {
      type: "object",
      additionalProperties: false,
      required: ["records", "bytes", "oldestAgeMs", "peakRecords", "at"],
      properties: { records: u53, bytes: u53, oldestAgeMs: u53, peakRecords: u53, at: u53 },
    },
    limits: {
      type: "object",
      additionalProperties: false,
      properties: {
        memoryBytes: u53,
        pids: u53,
        cpu: { type: "number", minimum: 0, maximum: 4096 },
        openFiles: u53,
        diskBytes: u53,
        disk: { enum: ["quota", "measured"] },
      },
    },
    secrets: {
      type: "object",
      additionalProperties: false,
      required: ["software", "parameters", "connection"],
      properties: { software: softwareUrl, parameters: secretKeys, connection: secretKeys },
    },
  },
} as const;

const usageReport = {
  type: "object",
  additionalProperties: false,
  required: ["instance", "from", "to", "cpuSeconds", "memoryPeakBytes"],
  properties: {
    instance: name,
    from: u53,
    to: u53,
    cpuSeconds: { type: "number", minimum: 0 },
    memoryPeakBytes: u53,
  },
} as const;

export const reportSchema = request(
  "report",
  {
    instances: { type: "array", maxItems: 4096, items: { type: "object" } },
    usage: { type: "array", maxItems: 65536, items: usageReport },
  },
  ["instances", "usage"],
);

/**
 * The fields of a `Chunk` (messages.ts), as the `telemetry` message carries them; the
 * agent's local API checks a partition's chunk against the same fields.
 */
export const chunkFields = {
  chunkId: u53,
  stream: { type: "string", minLength: 1, maxLength: 64 },
  schema: { bytes: { maxLength: 255 } },
  createdAt: u53,
  firstSeq: u53,
  lastSeq: u53,
  records: u53,
  compression: { enum: ["none", "deflate"] },
  body: { bytes: { maxLength: Number.MAX_SAFE_INTEGER } },
} as const;

export const CHUNK_REQUIRED = [
  "chunkId",
  "stream",
  "schema",
  "createdAt",
  "firstSeq",
  "lastSeq",
  "records",
  "compression",
  "body",
] as const;

/** The fields of a `Loss` (messages.ts); the `loss` message names `id` `lossId`. */
export const lossFields = {
  id: u53,
  stream: { type: "string", minLength: 1, maxLength: 64 },
  reason: { enum: ["overflow", "corrupt"] },
  chunkId: u53,
  fromSeq: u53,
  toSeq: u53,
  records: u53,
  at: u53,
} as const;

export const LOSS_REQUIRED = [
  "id",
  "stream",
  "reason",
  "chunkId",
  "fromSeq",
  "toSeq",
  "records",
  "at",
] as const;

export const telemetrySchema = request("telemetry", chunkFields, [...CHUNK_REQUIRED]);

/** Longest schema text a `schema` message carries (the master bounds its UTF-8 bytes too). */
export const SCHEMA_TEXT_MAX = 64 * 1024;

/** The fields of a `SchemaAnnouncement` (messages.ts). */
export const schemaFields = {
  fingerprint: { bytes: { maxLength: 255 } },
  schema: { type: "string", minLength: 1, maxLength: SCHEMA_TEXT_MAX },
} as const;

export const schemaAnnouncementSchema = request("schema", schemaFields, ["fingerprint", "schema"]);

const { id: lossId, ...lossRest } = lossFields;
export const lossSchema = request("loss", { lossId, ...lossRest }, [
  "lossId",
  ...LOSS_REQUIRED.filter((k) => k !== "id"),
]);

export const welcomeSchema = reply("welcome", { name }, ["name"]);

const requestedInstance = {
  type: "object",
  additionalProperties: false,
  required: ["instance", "ready", "status", "connection"],
  properties: {
    // A name the master refused as too long is still named here.
    instance: { type: "string", minLength: 1, maxLength: 256 },
    ready: { type: "boolean" },
    status: { enum: [...instanceStatus.enum, "pending"] },
    message: { type: "string", maxLength: 4096 },
    connection: stringMap,
  },
} as const;

const desiredInstance = {
  type: "object",
  additionalProperties: false,
  required: ["name", "software", "parameters", "partition", "cores", "state"],
  properties: {
    name,
    software: softwareUrl,
    parameters: stringMap,
    partition: { type: "integer", minimum: 0, maximum: 4095 },
    cores: { type: "array", maxItems: 4096, items: cpuId },
    state: { enum: ["started", "stopped", "destroyed"] },
    requested: {
      type: "object",
      maxProperties: 64,
      propertyNames: requestName,
      additionalProperties: requestedInstance,
    },
  },
} as const;

export const desiredSchema = reply(
  "desired",
  {
    software: { type: "array", maxItems: 4096, items: softwareUrl },
    instances: { type: "array", maxItems: 4096, items: desiredInstance },
  },
  ["software", "instances"],
);

export const ackSchema = reply(
  "ack",
  {
    chunkId: u53,
    lossId: u53,
    duplicate: { type: "boolean" },
    rejected: {
      type: "array",
      maxItems: 4096,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "reason"],
        properties: { name: { type: "string", maxLength: 256 }, reason: shortText },
      },
    },
  },
  [],
);

export const errorSchema = reply(
  "error",
  { code: { type: "string", maxLength: 64 }, message: { type: "string", maxLength: 4096 } },
  ["code", "message"],
);

/** A push has no id; `node` is the key of the node it is for. */
export const wakeSchema = {
  type: "object",
  additionalProperties: false,
  required: ["v", "type", "node"],
  properties: { v: { const: PUSH_SINCE_VERSION }, type: { const: "wake" }, node: key },
} as const;

export const nodeRequestSchemas = {
  hello: helloSchema,
  sync: syncSchema,
  report: reportSchema,
  telemetry: telemetrySchema,
  loss: lossSchema,
  schema: schemaAnnouncementSchema,
} as const;

export const masterReplySchemas = {
  welcome: welcomeSchema,
  desired: desiredSchema,
  ack: ackSchema,
  error: errorSchema,
} as const;

export const masterPushSchemas = {
  wake: wakeSchema,
} as const;
