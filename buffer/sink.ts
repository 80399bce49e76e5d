import type { Compression } from "./config.js";
import type { LossEvent } from "./loss.js";

/**
 * Where the forwarder delivers chunks. Transport-agnostic: a ZeroMQ connection to the
 * master, a TCP test sink, anything that can commit a chunk durably and say so.
 */
export interface OutboundChunk {
  chunkId: number;
  stream: string;
  schema: Buffer;
  createdAt: number;
  firstSeq: number;
  lastSeq: number;
  records: number;
  compression: Compression;
  /**
   * The chunk's record frames exactly as on disk (each with its sequence number and
   * CRC32C, see buffer/README.md), deflated when `compression` is `deflate`.
   */
  body: Buffer;
}

export interface Sink {
  /**
   * Resolves with the chunk id once the receiver has committed the chunk durably; a
   * receiver that already holds this id acknowledges again without storing it twice.
   * Rejects on any failure. When `signal` aborts (ack timeout, shutdown) the sink gives up
   * on the send and on any connection it cannot trust anymore.
   */
  send(chunk: OutboundChunk, signal: AbortSignal): Promise<{ chunkId: number }>;
  /** Same contract for a loss event, acknowledged by its id. */
  sendLoss(loss: LossEvent, signal: AbortSignal): Promise<{ lossId: number }>;
  close(): Promise<void>;
}
