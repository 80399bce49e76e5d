import { basename, dirname, join } from "node:path";
import { type Logger, silentLogger } from "../common/index.js";
import { FRAME_OVERHEAD } from "../common/record-frame.js";
import { commitBatch } from "./append-path.js";
import { BufferCore } from "./buffer-core.js";
import { emptyCheckpoint, readCheckpoint } from "./checkpoint.js";
import type { ChunkRef } from "./chunk-ref.js";
import {
  type BufferConfig,
  type BufferConfigInput,
  resolveConfig,
  STREAM_NAME,
  streamConfig,
} from "./config.js";
import { BufferClosedError, BufferInputError } from "./errors.js";
import { type FileLayer, realFileLayer } from "./file-layer.js";
import { acquireLock } from "./lock.js";
import type { LossEvent } from "./loss.js";
import { type BufferMetrics, collectMetrics } from "./metrics.js";
import { makeRoom } from "./overflow.js";
import { quarantineSuspects, recoverBuffer } from "./recover-buffer.js";
import { SchemaTexts } from "./schema-texts.js";
import { sealActive } from "./sealer.js";
import { acknowledgeChunk, type LoadedChunk, loadForSend, nextToSend } from "./send-queue.js";
import { StreamState } from "./stream-state.js";

export type { LoadedChunk } from "./send-queue.js";

export interface OpenOptions {
  /** The file layer; the power-loss tests pass their own. */
  fs?: FileLayer;
  logger?: Logger;
}

export interface AppendResult {
  /** Sequence numbers given to the records, in order. */
  firstSeq: number;
  lastSeq: number;
}

const EMPTY = Buffer.alloc(0);
const MAX_SCHEMA_BYTES = 255;

/**
 * The disk-backed buffer: an append-only chunk queue per stream under one directory,
 * and the calls the forwarder drives it with. See buffer/README.md for the guarantees
 * and the on-disk format.
 */
export class DiskBuffer {
  private readonly opening = new Map<string, Promise<StreamState>>();
  private readonly background = new Set<Promise<unknown>>();

  private constructor(
    private readonly core: BufferCore,
    private readonly unlock: () => Promise<void>,
    private readonly schemas: SchemaTexts,
  ) {}

  get config(): BufferConfig {
    return this.core.config;
  }

  static async open(input: BufferConfigInput, options: OpenOptions = {}): Promise<DiskBuffer> {
    const config = resolveConfig(input);
    const fs = options.fs ?? realFileLayer;
    const logger = options.logger ?? silentLogger;
    const parent = dirname(config.dir);
    if (!(await fs.readdir(parent).catch(() => [] as string[])).includes(basename(config.dir))) {
      await fs.mkdir(config.dir);
      await fs.fsyncDir(parent);
    }
    const unlock = await acquireLock(config.dir);
    try {
      const top = await fs.readdir(config.dir);
      const missing = ["streams", "corrupt"].filter((sub) => !top.includes(sub));
      for (const sub of missing) await fs.mkdir(join(config.dir, sub));
      if (missing.length > 0) await fs.fsyncDir(config.dir);
      const read = await readCheckpoint(fs, config.dir);
      if (read.state === "damaged") logger.error({ dir: config.dir }, "checkpoint.damaged");
      const data = read.state === "ok" ? read.data : emptyCheckpoint();
      const core = new BufferCore(
        config,
        fs,
        logger,
        data,
        read.state === "ok" ? read.generation : 0,
      );
      const buffer = new DiskBuffer(core, unlock, await SchemaTexts.load(fs, config.dir));
      await recoverBuffer(core, data, (name) => buffer.stream(name));
      await core.checkpoints.prepare();
      for (const q of quarantineSuspects(core)) buffer.track(q);
      return buffer;
    } catch (err) {
      await unlock();
      throw err;
    }
  }

  /** Streams that exist in this buffer (have held data). */
  get streamNames(): string[] {
    return [...this.core.streams.keys()];
  }

  /**
   * Appends records to a stream. Resolves once they are durable under the stream's fsync
   * policy (see README); rejects with `BufferFullError` when the overflow policy says so
   * or the disk is full, and then none of these records is stored.
   */
  async append(
    stream: string,
    records: readonly Uint8Array[],
    options: { schema?: Uint8Array } = {},
  ): Promise<AppendResult> {
    const core = this.core;
    if (core.closed) throw new BufferClosedError();
    if (records.length === 0) throw new BufferInputError("append needs at least one record");
    let bytes = 0;
    for (const r of records) {
      if (r.length > core.config.maxRecordBytes) {
        throw new BufferInputError(
          `record of ${r.length} bytes exceeds maxRecordBytes (${core.config.maxRecordBytes})`,
        );
      }
      bytes += FRAME_OVERHEAD + r.length;
    }
    const schema = options.schema ? Buffer.from(options.schema) : EMPTY;
    if (schema.length > MAX_SCHEMA_BYTES) {
      throw new BufferInputError(`schema fingerprint longer than ${MAX_SCHEMA_BYTES} bytes`);
    }
    // Awaits only where something must wait: an await that resolves at once still defers
    // this append past the producers queued behind it, and the group commit's timer would
    // start late by that much on every cycle.
    const st = core.streams.get(stream) ?? (await this.stream(stream));
    if (!core.budget.fits(bytes)) await makeRoom(core, st, bytes);
    core.budget.addBytes(bytes);
    if (!core.memory.tryAcquire(bytes)) await core.memory.acquire(bytes);
    return new Promise((resolve, reject) =>
      st.commit.add({ records, bytes, schema, resolve, reject }),
    );
  }

  /**
   * Tells the buffer which schema text a fingerprint its appends carry stands for: kept
   * on disk (`DIR/schemas/`) and sent by a forwarder to a sink that takes schemas before
   * the first chunk with that fingerprint. Resolves once durable; defining the same text
   * again does nothing.
   */
  defineSchema(fingerprint: Uint8Array, text: string): Promise<void> {
    if (this.core.closed) return Promise.reject(new BufferClosedError());
    return this.schemas.define(fingerprint, text);
  }

  /** The text defined for a fingerprint, if a producer defined one. */
  schemaText(fingerprint: Uint8Array): string | undefined {
    return this.schemas.get(fingerprint);
  }

  private stream(name: string): Promise<StreamState> {
    const core = this.core;
    const existing = core.streams.get(name);
    if (existing) return Promise.resolve(existing);
    if (!STREAM_NAME.test(name)) {
      return Promise.reject(
        new BufferInputError(`stream name '${name}' must match ${STREAM_NAME.source}`),
      );
    }
    let opening = this.opening.get(name);
    if (!opening) {
      if (core.streams.size + this.opening.size >= core.config.maxStreams) {
        return Promise.reject(
          new BufferInputError(`more than maxStreams (${core.config.maxStreams}) streams`),
        );
      }
      opening = (async () => {
        const streamsDir = join(core.config.dir, "streams");
        const dir = join(streamsDir, name);
        if (!(await core.fs.readdir(streamsDir)).includes(name)) {
          await core.fs.mkdir(dir);
          await core.fs.fsyncDir(streamsDir);
        }
        const st = new StreamState(name, dir, streamConfig(core.config, name), (s, b) =>
          commitBatch(core, s, b),
        );
        core.streams.set(name, st);
        return st;
      })();
      this.opening.set(name, opening);
      opening.finally(() => this.opening.delete(name)).catch(() => undefined);
    }
    return opening;
  }

  /** Seals every stream's open chunk now, so its records can be forwarded. */
  async sealAll(): Promise<void> {
    await Promise.all(
      [...this.core.streams.values()].map(async (st) => {
        await st.commit.drain();
        await st.serial(() => sealActive(this.core, st));
      }),
    );
  }

  // ---- the forwarder's side ----

  /** Calls `listener` whenever a chunk is sealed or a loss is recorded. */
  onActivity(listener: () => void): () => void {
    return this.core.onActivity(listener);
  }

  /**
   * The next chunk to send, marked as sending: among streams with a queued chunk the
   * highest priority wins (ties: the oldest chunk); within a stream, strictly in order.
   */
  nextToSend(): ChunkRef | undefined {
    return nextToSend(this.core);
  }

  /** Gives a chunk back to the queue after a failed send. */
  requeue(ref: ChunkRef): void {
    if (ref.state === "sending") ref.state = "queued";
    this.core.retries++;
  }

  /**
   * Reads a chunk for sending; a damaged chunk is quarantined first and its intact
   * records sent. Undefined when nothing of the chunk is left to send.
   */
  load(ref: ChunkRef): Promise<LoadedChunk | undefined> {
    return loadForSend(this.core, ref);
  }

  /** The sink has durably committed `ref`: forget it, then delete its file. */
  acknowledge(ref: ChunkRef): Promise<void> {
    return acknowledgeChunk(this.core, ref);
  }

  /** Loss events not yet acknowledged and not being sent, oldest first. */
  takeLosses(): LossEvent[] {
    return this.core.losses.take();
  }

  /** A loss event could not be sent; it is offered again later. */
  releaseLoss(id: number): void {
    this.core.losses.release(id);
    this.core.retries++;
  }

  /** The sink has the loss event; resolves once the checkpoint forgetting it is durable. */
  async acknowledgeLoss(id: number): Promise<void> {
    this.core.losses.acknowledge(id);
    await this.core.checkpoints.request();
  }

  // ---- state ----

  metrics(): BufferMetrics {
    const core = this.core;
    return collectMetrics(core.streams.values(), core.totals, {
      appendedRecords: core.appended.records,
      appendedBytes: core.appended.bytes,
      appendRate: core.appendRate.rate(),
      deliverRate: core.deliverRate.rate(),
      retries: core.retries,
      pendingLossEvents: core.losses.pending,
    });
  }

  /** Bytes and chunk files the budget counts (for tests of the bounds). */
  get usage(): { bytes: number; chunks: number } {
    return { bytes: this.core.budget.bytes, chunks: this.core.budget.chunks };
  }

  private track(p: Promise<unknown>): void {
    this.background.add(p);
    p.finally(() => this.background.delete(p)).catch(() => undefined);
  }

  /**
   * Commits everything appended, seals open chunks, writes a final checkpoint and
   * releases the directory. With `{ seal: false }` open chunks stay open (recovery seals
   * them on the next open), as after a crash.
   */
  async close(options: { seal?: boolean } = {}): Promise<void> {
    const core = this.core;
    if (core.closed) return;
    core.close();
    try {
      for (const st of core.streams.values()) {
        await st.commit.drain();
        clearTimeout(st.sealTimer);
        await st.serial(async () => {
          if (options.seal !== false) await sealActive(core, st);
          else await st.active?.close();
        });
        st.commit.stop();
      }
      await Promise.allSettled([...this.background]);
      await core.checkpoints.request();
    } finally {
      await core.checkpoints.close();
      await this.unlock();
    }
  }

  /**
   * Stops timers and retries and closes descriptors without writing or syncing anything,
   * for a buffer whose file layer is dead (power-cut tests); appends still queued are
   * never settled.
   */
  async abandon(): Promise<void> {
    this.core.close();
    for (const st of this.core.streams.values()) {
      clearTimeout(st.sealTimer);
      st.commit.stop();
      await st.active?.close().catch(() => undefined);
    }
    await this.core.checkpoints.close();
    await this.unlock();
  }
}
