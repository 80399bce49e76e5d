import type { Backlog, Chunk, SchemaAnnouncement } from "../protocol/index.js";
import type { LossEvent } from "./loss.js";

/**
 * One sealed chunk on its way to the master: protocol's `Chunk` (protocol/messages.ts),
 * the one shape it has from here to the master (buffer may import protocol's types).
 */
export type OutboundChunk = Chunk;

/**
 * Where the forwarder delivers chunks. Transport-agnostic: a ZeroMQ connection to the
 * master, a partition's local API, a TCP test sink, anything that can commit a chunk
 * durably and say so. With each send the forwarder says what else waits in the buffer
 * (`waiting`: records and bytes neither delivered nor in flight, and the age of the
 * oldest undelivered chunk); a sink that reports a backlog passes it on, others ignore it.
 */
export interface Sink {
  /**
   * Resolves with the chunk id once the receiver has committed the chunk durably; a
   * receiver that already holds this id acknowledges again without storing it twice.
   * Rejects on any failure. When `signal` aborts (ack timeout, shutdown) the sink gives up
   * on the send and on any connection it cannot trust anymore.
   */
  send(chunk: OutboundChunk, signal: AbortSignal, waiting?: Backlog): Promise<{ chunkId: number }>;
  /** Same contract for a loss event, acknowledged by its id. */
  sendLoss(loss: LossEvent, signal: AbortSignal, waiting?: Backlog): Promise<{ lossId: number }>;
  /**
   * Optional: gives the receiver the schema text a fingerprint stands for (as the
   * producer defined it, `DiskBuffer.defineSchema`). The forwarder calls it once per
   * fingerprint before the first chunk carrying it is sent, and again after a failure.
   * Resolves once the receiver stored the text durably, or with `refused` when the
   * receiver will never take it (its chunks are sent anyway; the receiver keeps them as
   * it can); rejects on any other failure, which the forwarder retries like a chunk.
   */
  sendSchema?(announcement: SchemaAnnouncement, signal: AbortSignal): Promise<{ refused?: string }>;
  close(): Promise<void>;
}
