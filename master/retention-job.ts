import type { Logger } from "../common/index.js";
import type { MasterMetrics } from "./metrics.js";
import type { MasterStore, RetentionResult } from "./store.js";

/** How often the master applies its retention policy. */
export const RETENTION_EVERY_MS = 60_000;

/** The last run, as the status snapshot shows it. */
export type RetentionRun = RetentionResult & { at: number; seconds: number };

const DELETED = [
  ["readings", "readings"],
  ["rollups", "rollups"],
  ["chunkBodies", "chunk_bodies"],
  ["series", "series"],
] as const;

/**
 * Applies the store's retention policy every minute, one run at a time (a run still
 * going when the next is due is left to finish). `close` stops the timer and the run
 * in progress between two of its batches.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RetentionResult | undefined> | undefined;
  private readonly stopping = new AbortController();
  /** The last run that finished; undefined before the first. */
  last: RetentionRun | undefined;

  constructor(
    private readonly store: MasterStore,
    private readonly metrics: MasterMetrics,
    private readonly logger: Logger,
  ) {}

  /** Runs every `everyMs` from now on; the timer does not keep the process alive. */
  start(everyMs = RETENTION_EVERY_MS): void {
    this.timer = setInterval(() => void this.run(), everyMs);
    this.timer.unref();
  }

  /** Runs now, or returns the run in progress; undefined when the run failed (logged). */
  run(now = Date.now()): Promise<RetentionResult | undefined> {
    this.running ??= this.runOnce(now).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort();
    await this.running;
  }

  private async runOnce(now: number): Promise<RetentionResult | undefined> {
    const started = process.hrtime.bigint();
    try {
      const result = await this.store.applyRetention(now, this.stopping.signal);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.retentionSeconds.observe(seconds);
      for (const [key, what] of DELETED) this.metrics.retentionDeleted.inc({ what }, result[key]);
      this.last = { ...result, at: now, seconds };
      if (DELETED.some(([key]) => result[key] > 0))
        this.logger.info({ ...result, seconds }, "retention.applied");
      return result;
    } catch (err) {
      this.metrics.retentionFailures.inc();
      this.logger.error({ err }, "retention.failed");
      return undefined;
    }
  }
}
