import type { Logger } from "../common/index.js";
import type { ProtocolServer } from "../protocol/index.js";
import type { MasterMetrics } from "./metrics.js";
import { ONLINE_WITHIN_MS } from "./status/status-snapshot.js";
import type { NodeChange } from "./store.js";

/** A link is held while its control requests came within this long (the page's "online"). */
export const HOLD_WINDOW_MS = ONLINE_WITHIN_MS;

/**
 * Waking every held node at once (after missed notices) goes out in slices this big,
 * this far apart: 2,000 a second, so 10,000 nodes do not all sync in the same instant.
 */
const SLICE = 200;
const SLICE_PAUSE_MS = 100;

/**
 * Turns the store's node changes into wakes on this master's link: a node whose control
 * link this master heard is told to sync now (`ProtocolServer.wake`), and the time from
 * the change's commit to the wake is measured (`outpost_master_notify_lag_seconds`).
 * A change to a node this master never heard from is another master's to send.
 */
export class NodeWaker {
  private queued: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly link: ProtocolServer,
    /** The key of a node that spoke to this master, by name. */
    private readonly keyOf: (node: string) => string | undefined,
    private readonly metrics: MasterMetrics,
    private readonly logger: Logger,
  ) {}

  /** A store's NodeChangeListener: never throws. */
  changed(change: NodeChange): void {
    try {
      if (change.node === null) {
        this.wakeAllHeld();
        return;
      }
      const key = this.keyOf(change.node);
      if (key === undefined || !this.link.wake(key)) return;
      this.metrics.wakes.inc({ cause: "change" });
      this.metrics.notifyLag.observe(Math.max(0, Date.now() - change.at) / 1000);
    } catch (err) {
      this.logger.error({ err, node: change.node }, "wake.failed");
    }
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queued = [];
  }

  /** Changes may have been missed: every node held syncs once, spread out in slices. */
  private wakeAllHeld(): void {
    this.queued = this.link.heldKeys(HOLD_WINDOW_MS);
    this.logger.info({ nodes: this.queued.length }, "wake.all_held");
    if (this.timer === undefined) this.nextSlice();
  }

  private nextSlice(): void {
    this.timer = undefined;
    for (const key of this.queued.splice(0, SLICE))
      if (this.link.wake(key)) this.metrics.wakes.inc({ cause: "missed" });
    if (this.queued.length === 0) return;
    this.timer = setTimeout(() => this.nextSlice(), SLICE_PAUSE_MS);
    this.timer.unref();
  }
}
