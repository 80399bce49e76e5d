/**
 * buffer — the disk-backed telemetry buffer and its forwarder. See README.md for the
 * guarantees, the configuration keys and the on-disk format.
 */

export { encodeRecords, FRAME_OVERHEAD, scanFrames } from "../common/record-frame.js";
export {
  type AppendResult,
  DiskBuffer,
  type LoadedChunk,
  type OpenOptions,
} from "./buffer.js";
export { type ParsedChunk, parseChunk } from "./chunk-file.js";
export type { ChunkRef } from "./chunk-ref.js";
export {
  type BufferConfig,
  type BufferConfigInput,
  bufferConfigSchema,
  type Compression,
  type ForwardConfig,
  type FsyncPolicy,
  type OverflowPolicy,
  resolveConfig,
  STREAM_NAME,
  type StreamConfig,
} from "./config.js";
export {
  BufferClosedError,
  BufferError,
  BufferFullError,
  BufferInputError,
  BufferLockedError,
  SinkTimeoutError,
} from "./errors.js";
export { type FileLayer, realFileLayer, type WritableFile } from "./file-layer.js";
export { type FollowedRecord, type FollowOptions, followStream } from "./follow.js";
export { Forwarder } from "./forwarder.js";
export { type BufferStat, readUndelivered, statBuffer, type UndeliveredRecord } from "./inspect.js";
export type { LossEvent } from "./loss.js";
export type { BufferMetrics, StreamMetrics } from "./metrics.js";
export type { OutboundChunk, Sink } from "./sink.js";
