import { type BackoffOptions, backoffDelay, type Logger } from "../../common/index.js";
import type { BufferBacklog, Hello, NodeLink, RequestBody } from "../../protocol/index.js";
import type { AgentMetrics } from "../metrics.js";
import type { Converger, DesiredSnapshot } from "./converger.js";
import type { Journal } from "./journal.js";

/** An unchanged report is sent again after this long. */
export const REPORT_HEARTBEAT_MS = 30_000;

/**
 * After a refused or failed report, the next waits this long (doubling per failure), with
 * equal jitter so the nodes a master refused together do not come back together.
 */
export const REPORT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 60_000, jitter: "equal" };

export interface SyncLoopOptions {
  link: NodeLink;
  converger: Converger;
  journal: Journal;
  hello: RequestBody<Hello>;
  /** The name this node expects; the master's answer is compared with it. */
  name?: string;
  logger: Logger;
  /** Pause between passes when nothing wakes the loop. */
  syncIntervalMs: number;
  /** Every this often a pass re-fetches every descriptor (slapgrid's periodic full run). */
  fullPassMs: number;
  /** Every this often a usage period is closed and reported. */
  usageIntervalMs: number;
  metrics?: AgentMetrics;
}

/**
 * The converge loop: sync with the master, apply, report, wait; again. With the master
 * unreachable the node keeps converging to the last desired state it was sent (kept in
 * the journal) and retries the link on the next pass. Local "done" marks (destroyed
 * partitions removed) are written only once the master acknowledged the report.
 */
export class SyncLoop {
  private closed = false;
  private welcomed = false;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private lastFull = 0;
  private lastUsage = Date.now();
  private lastReport = "";
  private lastReportAt = 0;
  private reportFailures = 0;
  private nextReportAt = 0;
  private lastRejected = "";
  private readonly done: Promise<void>;
  /** Passes completed; `online` says whether the last one reached the master. */
  passes = 0;
  online = false;
  /** When a sync last reached the master (ms since the epoch): how current `online` is. */
  lastSyncAt: number | undefined;

  constructor(private readonly options: SyncLoopOptions) {
    this.done = this.run();
  }

  /** Asks for a pass now (debounced by the pass in progress). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** The link moved to another master: say hello to it and sync now. */
  relinked(): void {
    this.welcomed = false;
    this.wake();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeUp?.();
    await this.done;
  }

  private async run(): Promise<void> {
    const { converger, journal, logger } = this.options;
    while (!this.closed) {
      const now = Date.now();
      const endTimer = this.options.metrics?.passSeconds.startTimer();
      const full = now - this.lastFull >= this.options.fullPassMs;
      const desired = await this.fetchDesired();
      if (this.closed) break;
      if (desired) {
        try {
          await converger.apply(desired, full);
          if (full) this.lastFull = now;
        } catch (err) {
          logger.error({ err }, "converge.failed");
        }
      }
      if (Date.now() - this.lastUsage >= this.options.usageIntervalMs) {
        converger.meterUsage();
        this.lastUsage = Date.now();
      }
      await this.report();
      this.passes++;
      endTimer?.();
      this.options.metrics?.passes.inc();
      if (!journal.desired && !this.online) logger.debug({}, "converge.no_desired_state");
      await this.pause();
    }
  }

  private async fetchDesired(): Promise<DesiredSnapshot | undefined> {
    const { link, journal, logger } = this.options;
    try {
      if (!this.welcomed) {
        const welcome = await link.hello(this.options.hello);
        this.welcomed = true;
        logger.info({ name: welcome.name }, "agent.registered");
        if (this.options.name !== undefined && this.options.name !== welcome.name)
          logger.error({ expected: this.options.name, name: welcome.name }, "agent.name_mismatch");
      }
      const desired = await link.sync();
      const snapshot = { software: desired.software, instances: desired.instances };
      journal.setDesired(snapshot);
      this.lastSyncAt = Date.now();
      if (!this.online) logger.info({}, "master.online");
      this.online = true;
      return snapshot;
    } catch (err) {
      if (this.online || this.passes === 0)
        logger.warn({ err: (err as Error).message }, "master.offline");
      this.online = false;
      return journal.desired;
    }
  }

  private async report(): Promise<void> {
    if (!this.online || Date.now() < this.nextReportAt) return;
    const { link, converger, logger } = this.options;
    const batch = converger.report();
    // An unchanged report (check times aside) is resent only as a heartbeat: an idle
    // node costs the master, and itself, next to nothing. A backlog counts as changed
    // when its order of magnitude does, so a growing or draining buffer shows on the
    // master within a pass while the steady churn of the open chunk does not; so does
    // its peak, so a backlog drained right after an outage is still reported.
    const fingerprint = JSON.stringify(batch.instances, (k, v) =>
      k === "checkedAt" ? undefined : k === "buffer" ? magnitude(v as BufferBacklog) : v,
    );
    const quiet = batch.usage.length === 0 && batch.destroyed.length === 0;
    if (
      quiet &&
      fingerprint === this.lastReport &&
      Date.now() - this.lastReportAt < REPORT_HEARTBEAT_MS
    )
      return;
    try {
      const rejected = await link.report({ instances: batch.instances, usage: batch.usage });
      const said = JSON.stringify(rejected);
      if (rejected.length > 0 && said !== this.lastRejected)
        logger.error({ rejected }, "report.instances_rejected");
      this.lastRejected = said;
      this.lastReport = fingerprint;
      this.lastReportAt = Date.now();
      this.reportFailures = 0;
      this.nextReportAt = 0;
    } catch (err) {
      // A refused report is retried with backoff, never once per wake-up.
      this.reportFailures++;
      const delay = backoffDelay(REPORT_BACKOFF, this.reportFailures);
      this.nextReportAt = Date.now() + delay;
      logger.warn(
        { err: (err as Error).message, failures: this.reportFailures, retryInMs: delay },
        "report.failed",
      );
      return;
    }
    try {
      await converger.acknowledged(batch);
    } catch (err) {
      logger.error({ err }, "report.ack_failed");
    }
  }

  private async pause(): Promise<void> {
    if (this.closed) return;
    if (this.woken) {
      this.woken = false;
      // Coalesce a burst of changes (a restart flips several states) into one pass.
      await new Promise((r) => setTimeout(r, 50));
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.options.syncIntervalMs);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
    });
    this.woken = false;
  }
}

/** Powers of two of the records waiting and of their peak: 0 for none, 1 for 1, 2 for 2–3 … */
function magnitude(backlog: BufferBacklog): number[] {
  return [backlog.records, backlog.peakRecords].map((n) =>
    n === 0 ? 0 : Math.floor(Math.log2(n)) + 1,
  );
}
