import type { StreamConfig } from "./config.js";

/**
 * Batches the appends of one stream into commits: `always` and `never` commit as soon as
 * the event loop turns (every append that arrived meanwhile joins, and appends arriving
 * while a commit runs share the next one); `batch` commits `batchMs` after the first
 * waiting append or as soon as `batchBytes` wait. The commit itself (write, fdatasync) is
 * the `commit` callback; it settles every entry it is given.
 */
export interface PendingAppend {
  records: readonly Uint8Array[];
  bytes: number;
  schema: Buffer;
  resolve(result: { firstSeq: number; lastSeq: number }): void;
  reject(err: unknown): void;
}

export class GroupCommit {
  private queue: PendingAppend[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly config: StreamConfig,
    private readonly commit: (batch: PendingAppend[]) => Promise<void>,
  ) {}

  get waiting(): number {
    return this.queue.length;
  }

  add(entry: PendingAppend): void {
    this.queue.push(entry);
    this.queuedBytes += entry.bytes;
    if (this.config.fsync !== "batch" || this.queuedBytes >= this.config.batchBytes) {
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.kick();
      });
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.kick();
      }, this.config.batchMs);
    }
  }

  /** Commits everything waiting now; resolves when the queue is empty. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running) {
      if (this.running) await this.running;
      else this.kick();
    }
  }

  private kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.queue.length === 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    this.again = false;
    this.running = this.commit(batch)
      .catch((err: unknown) => {
        for (const entry of batch) entry.reject(err);
      })
      .finally(() => {
        this.running = undefined;
        if (this.queue.length === 0) return;
        if (this.again || this.config.fsync !== "batch") this.kick();
        else
          this.timer ??= setTimeout(() => {
            this.timer = undefined;
            this.kick();
          }, this.config.batchMs);
      });
  }

  stop(): void {
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
  }
}
