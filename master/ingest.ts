import type { IngestResult, MasterStore, StoredChunk } from "./store.js";

/** Chunks per transaction: bounds one commit's latency when a thousand nodes send at once. */
const MAX_BATCH = 1024;

interface Waiting {
  chunk: StoredChunk;
  resolve(result: IngestResult): void;
  reject(err: unknown): void;
}

/**
 * Group commit for telemetry: chunks arriving while a commit runs are stored together
 * in the next transaction, so one fsync covers many nodes' chunks. Each caller's promise
 * resolves only after its chunk's transaction committed; the ack goes out after that,
 * and `onCommit` (metrics, the status page) is told a turn of the event loop later.
 */
export class TelemetryIngest {
  private queue: Waiting[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: MasterStore,
    private readonly onCommit: (
      batch: StoredChunk[],
      results: IngestResult[],
      seconds: number,
    ) => void,
  ) {}

  ingest(chunk: StoredChunk): Promise<IngestResult> {
    return new Promise<IngestResult>((resolve, reject) => {
      this.queue.push({ chunk, resolve, reject });
      this.flushing ??= this.flushSoon();
    });
  }

  /** Resolves once every chunk queued so far is committed (or failed). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushSoon(): Promise<void> {
    // Let the chunks already read from the socket join this batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      const started = process.hrtime.bigint();
      try {
        const chunks = batch.map((w) => w.chunk);
        const results = await this.store.ingestChunks(chunks);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        batch.forEach((w, i) => {
          w.resolve(results[i] ?? { duplicate: false });
        });
        // The acks go out first: the nodes send their next chunks meanwhile.
        setImmediate(() => this.onCommit(chunks, results, seconds));
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.flushing = undefined;
  }
}
