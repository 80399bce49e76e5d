import type { Logger } from "../common/index.js";
import { type CheckpointData, CheckpointStore, type Totals } from "./checkpoint.js";
import type { ChunkRef } from "./chunk-ref.js";
import type { BufferConfig } from "./config.js";
import type { FileLayer } from "./file-layer.js";
import { DiskBudget } from "./limits.js";
import { LossLedger } from "./loss-ledger.js";
import { MemoryStage } from "./memory-stage.js";
import { RateMeter } from "./rate-meter.js";
import type { StreamState } from "./stream-state.js";

/**
 * The state every part of the buffer shares — streams, budgets, checkpoint, losses,
 * counters — and the few services they all need (chunk ids, activity notification,
 * failure logging, a pause that ends at close). The parts themselves (append path,
 * sealing, overflow, quarantine, recovery) are functions over it in their own modules;
 * `DiskBuffer` is the public face.
 */
export class BufferCore {
  readonly streams = new Map<string, StreamState>();
  readonly budget: DiskBudget;
  readonly memory: MemoryStage;
  readonly checkpoints: CheckpointStore;
  readonly losses: LossLedger;
  readonly totals: Totals;
  readonly appendRate = new RateMeter();
  readonly deliverRate = new RateMeter();
  readonly appended = { records: 0, bytes: 0 };
  retries = 0;
  /** No chunk will ever get an id below this. */
  nextChunkId: number;
  private readonly listeners = new Set<() => void>();
  private readonly closing = new AbortController();

  constructor(
    readonly config: BufferConfig,
    readonly fs: FileLayer,
    readonly logger: Logger,
    data: CheckpointData,
    generation: number,
  ) {
    this.budget = new DiskBudget(config.maxBytes, config.maxChunks);
    this.memory = new MemoryStage(config.memoryBytes);
    this.checkpoints = new CheckpointStore(fs, config.dir, generation, () => this.snapshot());
    this.losses = new LossLedger(
      data.losses.map((l) => ({ ...l })),
      data.nextLossId,
      () => this.notify(),
    );
    this.totals = { ...data.totals };
    this.nextChunkId = data.nextChunkId;
  }

  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  /** Marks the buffer closed; pending `pause`s end at once. */
  close(): void {
    this.closing.abort();
  }

  /** Waits `ms`, or less if the buffer closes meanwhile. */
  pause(ms: number): Promise<void> {
    const signal = this.closing.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  onActivity(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A chunk was sealed or a loss recorded: the forwarder may have work. */
  notify(): void {
    for (const l of this.listeners) l();
  }

  logFailure(err: unknown, event: string, where: { stream?: string; ref?: ChunkRef } = {}): void {
    const e = err as NodeJS.ErrnoException;
    this.logger.error(
      {
        stream: where.stream ?? where.ref?.stream,
        chunkId: where.ref?.id,
        code: e.code,
        err: e.message,
      },
      event,
    );
  }

  snapshot(): CheckpointData {
    const streams: CheckpointData["streams"] = {};
    for (const st of this.streams.values()) {
      streams[st.name] = {
        nextSequence: st.seqFloor,
        removed: [...st.removed],
        quarantined: [...st.quarantined],
      };
    }
    return {
      version: 1,
      nextChunkId: this.nextChunkId,
      streams,
      ...this.losses.snapshot(),
      totals: { ...this.totals },
    };
  }
}
