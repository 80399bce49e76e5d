/**
 * JSON Schemas of the HTTP API's requests (bodies, queries, path parameters): the
 * framework checks every request against them before a handler runs, and
 * `/v1/openapi.json` shows them. Names are the same words as the CLI's.
 */
export const NAME_RULE =
  "1-63 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit";

const name = {
  type: "string",
  pattern: "^[a-z0-9][a-z0-9._-]{0,62}$",
  description: NAME_RULE,
} as const;

const software = {
  type: "string",
  minLength: 1,
  maxLength: 2048,
  description: "the release's software URL",
} as const;

export const addNodeBody = {
  title: "node",
  type: "object",
  additionalProperties: false,
  required: ["name", "publicKey"],
  properties: {
    name,
    publicKey: { type: "string", description: "the node's CURVE public key (Z85)" },
  },
} as const;

export const supplyBody = {
  title: "supply",
  type: "object",
  additionalProperties: false,
  required: ["software"],
  properties: { software },
} as const;

export const requestInstanceBody = {
  title: "request",
  type: "object",
  additionalProperties: false,
  required: ["name", "software"],
  properties: {
    name,
    software,
    node: name,
    parameters: {
      type: "object",
      maxProperties: 256,
      propertyNames: { minLength: 1, maxLength: 128 },
      additionalProperties: { type: "string", maxLength: 4096 },
    },
    secrets: {
      type: "array",
      maxItems: 256,
      items: { type: "string", minLength: 1, maxLength: 128 },
      description: "parameter keys never shown, besides those the release marks x-outpost-secret",
    },
    cores: {
      type: "integer",
      minimum: 0,
      maximum: 4096,
      description: "isolated cores for a real-time instance",
    },
    wait: {
      type: "boolean",
      description:
        "keep a request no node can take now as `waiting` (default) instead of refusing it",
    },
  },
} as const;

/** `/v1/nodes/:name`, `/v1/instances/:name`. */
export const nameParams = {
  title: "path",
  type: "object",
  additionalProperties: false,
  required: ["name"],
  properties: { name: { type: "string", minLength: 1 } },
} as const;

export const instancesQuery = {
  title: "instances query",
  type: "object",
  additionalProperties: false,
  properties: { node: { type: "string", description: "only this node's instances" } },
} as const;

export const TELEMETRY_DEFAULT_LIMIT = 1000;

export const telemetryQuery = {
  title: "telemetry query",
  type: "object",
  additionalProperties: false,
  properties: {
    node: { type: "string", description: "only this node's" },
    stream: { type: "string", description: "only this stream's" },
    since: {
      type: "integer",
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: "received at or after this time, ms since the epoch",
    },
    limit: {
      type: "integer",
      minimum: 0,
      maximum: 100_000,
      description: `most chunks answered (default ${TELEMETRY_DEFAULT_LIMIT})`,
    },
    withBody: { type: "boolean", description: "add each chunk's body, base64" },
  },
} as const;

const INSTANT =
  "ISO 8601 (2026-01-31T12:00:00Z), ms since the epoch, or a duration before now (10m, 2h, 1d)";

export const readingsQuery = {
  title: "readings query",
  type: "object",
  additionalProperties: false,
  properties: {
    node: { type: "string", maxLength: 256, description: "only this node's" },
    device: { type: "string", maxLength: 256, description: "only this device's" },
    tag: {
      anyOf: [
        { type: "string", maxLength: 256 },
        { type: "array", maxItems: 100, items: { type: "string", maxLength: 256 } },
      ],
      description: "only these tags (repeat the parameter: tag=a&tag=b); all when absent",
    },
    from: {
      type: "string",
      maxLength: 64,
      description: `start, inclusive: ${INSTANT}; default 1 h before \`to\``,
    },
    to: { type: "string", maxLength: 64, description: `end, exclusive: ${INSTANT}; default now` },
    step: {
      type: "string",
      maxLength: 32,
      description:
        "bucket width (1m, 15m, 1h): answers one aggregate per bucket, buckets aligned to the epoch",
    },
    agg: {
      type: "string",
      enum: ["avg", "min", "max", "last", "count"],
      description: "the aggregate of each bucket (needs `step`; default avg)",
    },
    quality: {
      type: "string",
      enum: ["good", "any"],
      description: "`good` (default): good readings only; `any`: every reading",
    },
  },
} as const;

export const readingSeriesQuery = {
  title: "series query",
  type: "object",
  additionalProperties: false,
  properties: {
    node: { type: "string", maxLength: 256, description: "only this node's" },
    device: { type: "string", maxLength: 256, description: "only this device's" },
  },
} as const;

/** A JSON answer, documented with its description and top-level fields only. */
export function answer(description: string, ...fields: string[]) {
  return {
    description,
    type: "object",
    required: fields,
    properties: Object.fromEntries(fields.map((f) => [f, {}])),
  } as const;
}
