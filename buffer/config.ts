/**
 * The buffer's configuration: TypeScript types, the JSON Schema the CLI validates YAML
 * against (`cli/config`), and `resolveConfig` for callers that build it in code. The same
 * words are used as YAML keys and CLI flags (`fsync` ↔ `--fsync`, `sealBytes` ↔
 * `--seal-bytes`).
 */

export type FsyncPolicy = "always" | "batch" | "never";
export type OverflowPolicy = "block" | "drop_oldest" | "reject";
export type Compression = "none" | "deflate";

export interface StreamConfig {
  /** When an append counts as durable: after its own fdatasync, a group commit, or never. */
  fsync: FsyncPolicy;
  /** `batch`: commit at most this many ms after the first waiting append… */
  batchMs: number;
  /** …or as soon as this many bytes wait, whichever comes first. */
  batchBytes: number;
  /** What an append does when the buffer is full. */
  overflow: OverflowPolicy;
  /** `block`: how long an append waits for room before `BufferFullError`. */
  blockTimeoutMs: number;
  /** Higher is forwarded first (alarms above bulk telemetry). */
  priority: number;
  /** A chunk is sealed once it holds this many bytes… */
  sealBytes: number;
  /** …or this many ms after its first record. */
  sealAgeMs: number;
}

export interface ForwardConfig {
  /** Chunks in flight at once (all streams together). */
  window: number;
  compression: Compression;
  /** A send not acknowledged within this time is abandoned and retried. */
  ackTimeoutMs: number;
  /** Full-jitter exponential backoff: first ceiling and the cap. */
  backoffBaseMs: number;
  backoffCapMs: number;
}

export interface BufferConfig {
  dir: string;
  /** Bytes of chunk files (all streams) plus staged appends. */
  maxBytes: number;
  /** Chunk files on disk (all streams); bounds file count whatever the rate. */
  maxChunks: number;
  /** Streams a buffer accepts; each holds one open descriptor. */
  maxStreams: number;
  /** Largest single record. */
  maxRecordBytes: number;
  /** Bytes of appends waiting for the disk; producers wait beyond this. */
  memoryBytes: number;
  defaults: StreamConfig;
  /** Per-stream overrides of `defaults`, by stream name. */
  streams: Record<string, Partial<StreamConfig>>;
  forward: ForwardConfig;
}

export type BufferConfigInput = Partial<Omit<BufferConfig, "defaults" | "forward">> & {
  dir: string;
  defaults?: Partial<StreamConfig>;
  forward?: Partial<ForwardConfig>;
};

export const STREAM_DEFAULTS: StreamConfig = {
  fsync: "batch",
  batchMs: 10,
  batchBytes: 1 << 20,
  overflow: "block",
  blockTimeoutMs: 30_000,
  priority: 0,
  sealBytes: 1 << 20,
  sealAgeMs: 1000,
};

export const FORWARD_DEFAULTS: ForwardConfig = {
  window: 4,
  compression: "none",
  ackTimeoutMs: 30_000,
  backoffBaseMs: 100,
  backoffCapMs: 60_000,
};

export const BUFFER_DEFAULTS = {
  maxBytes: 1 << 30,
  maxChunks: 4096,
  maxStreams: 64,
  maxRecordBytes: 1 << 20,
  memoryBytes: 8 << 20,
} as const;

/** Stream names become directory names, so they are kept to a safe alphabet. */
export const STREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function resolveConfig(input: BufferConfigInput): BufferConfig {
  return {
    ...BUFFER_DEFAULTS,
    streams: {},
    ...input,
    defaults: { ...STREAM_DEFAULTS, ...input.defaults },
    forward: { ...FORWARD_DEFAULTS, ...input.forward },
  };
}

export function streamConfig(config: BufferConfig, stream: string): StreamConfig {
  return { ...config.defaults, ...config.streams[stream] };
}

const positive = (def: number) => ({ type: "integer", minimum: 1, default: def });

function streamProperties(withDefaults: boolean): Record<string, object> {
  const d = (schema: Record<string, unknown>, def: unknown) =>
    withDefaults ? { ...schema, default: def } : schema;
  return {
    fsync: d({ enum: ["always", "batch", "never"] }, STREAM_DEFAULTS.fsync),
    batchMs: d({ type: "integer", minimum: 0 }, STREAM_DEFAULTS.batchMs),
    batchBytes: d({ type: "integer", minimum: 1 }, STREAM_DEFAULTS.batchBytes),
    overflow: d({ enum: ["block", "drop_oldest", "reject"] }, STREAM_DEFAULTS.overflow),
    blockTimeoutMs: d({ type: "integer", minimum: 0 }, STREAM_DEFAULTS.blockTimeoutMs),
    priority: d({ type: "integer" }, STREAM_DEFAULTS.priority),
    sealBytes: d({ type: "integer", minimum: 64 }, STREAM_DEFAULTS.sealBytes),
    sealAgeMs: d({ type: "integer", minimum: 1 }, STREAM_DEFAULTS.sealAgeMs),
  };
}

/** JSON Schema (draft 2020-12 subset ajv understands) for a buffer config file. */
export const bufferConfigSchema = {
  type: "object",
  additionalProperties: false,
  required: ["dir"],
  properties: {
    dir: { type: "string", minLength: 1 },
    maxBytes: positive(BUFFER_DEFAULTS.maxBytes),
    maxChunks: positive(BUFFER_DEFAULTS.maxChunks),
    maxStreams: positive(BUFFER_DEFAULTS.maxStreams),
    maxRecordBytes: positive(BUFFER_DEFAULTS.maxRecordBytes),
    memoryBytes: positive(BUFFER_DEFAULTS.memoryBytes),
    defaults: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: streamProperties(true),
    },
    streams: {
      type: "object",
      default: {},
      propertyNames: { pattern: STREAM_NAME.source },
      additionalProperties: {
        type: "object",
        additionalProperties: false,
        properties: streamProperties(false),
      },
    },
    forward: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        window: positive(FORWARD_DEFAULTS.window),
        compression: { enum: ["none", "deflate"], default: FORWARD_DEFAULTS.compression },
        ackTimeoutMs: positive(FORWARD_DEFAULTS.ackTimeoutMs),
        backoffBaseMs: positive(FORWARD_DEFAULTS.backoffBaseMs),
        backoffCapMs: positive(FORWARD_DEFAULTS.backoffCapMs),
      },
    },
  },
} as const;
