import { Backoff, type BackoffOptions, type Logger } from "../../common/index.js";
import type { MasterMetrics } from "../metrics.js";
import type { MasterStore, OutboxMessage } from "../store.js";
import { type JetStreamLink, MessageTooLargeError, reasonOf } from "./jetstream-link.js";
import { messageId } from "./subjects.js";

export interface PublisherOptions {
  /** Messages claimed and published together (default 256). */
  batch?: number;
  /**
   * How long a claim keeps a batch from other publishers (default 30 s): longer than a
   * batch takes to publish (every publish times out after PUBLISH_TIMEOUT_MS).
   */
  leaseMs?: number;
  /** How often an empty outbox is looked at again, when no ingest says it filled (default 1 s). */
  idleMs?: number;
  /** Waits after failures (default 1 s doubling to 30 s, equal jitter). */
  backoff?: BackoffOptions;
}

type Outbox = Pick<MasterStore, "claimOutbox" | "settleOutbox">;

/**
 * The outbox's publisher: claims the oldest messages, publishes them to JetStream, and
 * deletes each only after its PubAck (a PubAck saying `duplicate` counts too: JetStream
 * has the message already). A message not acked (NATS away, a timeout) stays in the
 * outbox and is published again after a backoff, with the same message id, so JetStream
 * drops it if the first try did land. Ingest never waits for any of this: it only writes
 * the rows.
 */
export class OutboxPublisher {
  private readonly batch: number;
  private readonly leaseMs: number;
  private readonly idleMs: number;
  private readonly backoff: Backoff;
  private loop: Promise<void> | undefined;
  /** Ends the current sleep; `idle` says whether new messages may end it (not a backoff). */
  private sleeping: { end(): void; idle: boolean } | undefined;
  private closed = false;
  /** When the current run of failures began; undefined while publishing works. */
  private failingSince: number | undefined;

  constructor(
    private readonly outbox: Outbox,
    private readonly link: JetStreamLink,
    private readonly metrics: MasterMetrics,
    private readonly logger: Logger,
    options: PublisherOptions = {},
  ) {
    this.batch = options.batch ?? 256;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.idleMs = options.idleMs ?? 1_000;
    this.backoff = new Backoff(
      options.backoff ?? { initialMs: 1_000, maxMs: 30_000, jitter: "equal" },
    );
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Messages were written: publish now rather than at the next look. */
  wake(): void {
    if (this.sleeping?.idle) this.sleeping.end();
  }

  /** Stops: publishes in flight fail and their messages stay in the outbox for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.sleeping?.end();
    await this.link.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      let wait: number;
      let idle = false;
      try {
        const outcome = await this.pass();
        if (outcome === "failed") wait = this.failed();
        else {
          this.recovered();
          idle = outcome === "idle";
          wait = idle ? this.idleMs : 0;
        }
      } catch (err) {
        wait = this.failed(err);
      }
      if (wait > 0 && !this.closed) await this.sleep(wait, idle);
    }
  }

  /** One batch: `more` when the outbox may hold more, `idle` when it is empty. */
  private async pass(): Promise<"idle" | "more" | "failed"> {
    await this.link.ready();
    const messages = await this.outbox.claimOutbox(this.batch, this.leaseMs);
    if (messages.length === 0) return "idle";
    const results = await Promise.allSettled(messages.map((m) => this.link.publish(m)));
    const published: number[] = [];
    const retry: number[] = [];
    let lastError: unknown;
    results.forEach((r, i) => {
      const m = messages[i] as OutboxMessage;
      if (r.status === "fulfilled") {
        published.push(m.id);
        this.metrics.natsPublished.inc({ result: r.value.duplicate ? "duplicate" : "stored" });
        if (!r.value.duplicate) this.metrics.natsPublishedReadings.inc(m.readings);
      } else if (r.reason instanceof MessageTooLargeError) {
        // It can never be published: dropped, counted and logged, never silently.
        published.push(m.id);
        this.metrics.natsDropped.inc({ reason: "too_large" }, m.readings);
        this.logger.error(
          {
            msgId: messageId(m.node, m.chunkId, m.part, m.parts),
            readings: m.readings,
            bytes: r.reason.bytes,
            maxPayload: r.reason.maxPayload,
          },
          "fanout.message_too_large",
        );
      } else {
        retry.push(m.id);
        lastError = r.reason;
      }
    });
    await this.outbox.settleOutbox(published, retry);
    if (retry.length > 0) {
      this.metrics.natsPublishFailures.inc(retry.length);
      this.logger.debug(
        { failed: retry.length, err: reasonOf(lastError) },
        "fanout.publish_failed",
      );
      return "failed";
    }
    return messages.length === this.batch ? "more" : "idle";
  }

  /** Counts a failure; the first of a run is logged. Returns the wait before the next try. */
  private failed(err?: unknown): number {
    // Publishes cut short by close() are not an outage.
    if (this.failingSince === undefined && !this.closed) {
      this.failingSince = Date.now();
      this.logger.warn(
        { err: err === undefined ? "publishes failed" : reasonOf(err) },
        "fanout.unavailable",
      );
    }
    return this.backoff.next();
  }

  private recovered(): void {
    if (this.failingSince === undefined) return;
    this.logger.info({ failedForMs: Date.now() - this.failingSince }, "fanout.available");
    this.failingSince = undefined;
    this.backoff.reset();
  }

  private sleep(ms: number, idle: boolean): Promise<void> {
    return new Promise((resolve) => {
      const end = (): void => {
        clearTimeout(timer);
        this.sleeping = undefined;
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.sleeping = { end, idle };
    });
  }
}
