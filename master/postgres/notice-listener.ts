import { randomUUID } from "node:crypto";
import type postgres from "postgres";
import type { NodeChangeFeed } from "../node-changes.js";
import { NODE_CHANGED_CHANNEL, parseNotice } from "./node-notices.js";

export interface ProbeTiming {
  /** How often the listener proves it still hears the channel. */
  everyMs: number;
  /** A probe not heard this long after its commit: the connection is taken as dead. */
  timeoutMs: number;
}

/**
 * 30 s: a NAT or firewall that forgets an idle connection is found within about 40 s,
 * where TCP keepalive (60 s idle, then the kernel's 9 probes 75 s apart) takes 12 min.
 */
export const PROBE_TIMING: ProbeTiming = { everyMs: 30_000, timeoutMs: 10_000 };

/**
 * LISTENs for node changes on a connection of its own and tells `feed` of each notice.
 * postgres.js listens again by itself when that connection closes; a connection cut
 * without a FIN (a NAT forgetting it, a peer vanished) stays open and hears nothing, so
 * the listener proves itself: every `everyMs` it NOTIFYs a probe of its own through the
 * pool and, when the probe is not heard within `timeoutMs`, replaces the connection.
 * Each time it listens again, `feed` is told `node: null`: notices sent meanwhile are
 * lost, any node may have changed. A probe that could not be sent (the database is
 * down) proves nothing; the pool's own errors say so.
 */
export class NodeNoticeListener {
  private client: postgres.Sql | undefined;
  private timer: NodeJS.Timeout | undefined;
  private awaited: { token: string; heard: () => void } | undefined;
  private closed = false;
  /** Connections replaced because they fell silent. */
  replaced = 0;

  constructor(
    /** A new client for the listening connection (it only ever LISTENs). */
    private readonly openClient: () => postgres.Sql,
    /** The store's pool, which sends the probes. */
    private readonly pool: postgres.Sql,
    private readonly feed: NodeChangeFeed,
    private readonly timing: ProbeTiming = PROBE_TIMING,
  ) {}

  /** Listens; resolves once LISTEN ran (rejects when it cannot), then probes. */
  async start(): Promise<void> {
    await this.listen(false);
    this.schedule();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.client?.end({ timeout: 0 });
  }

  private async listen(again: boolean): Promise<void> {
    const client = this.openClient();
    this.client = client;
    let listened = again;
    try {
      await client.listen(
        NODE_CHANGED_CHANNEL,
        (payload) => this.heard(payload),
        () => {
          if (listened) this.feed.emit({ node: null, at: Date.now() });
          listened = true;
        },
      );
    } catch (err) {
      await client.end({ timeout: 0 });
      throw err;
    }
  }

  private heard(payload: string): void {
    const change = parseNotice(payload);
    if (change) {
      this.feed.emit(change);
      return;
    }
    if (this.awaited && payload === probePayload(this.awaited.token)) this.awaited.heard();
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.probe()
        .catch(() => undefined)
        .finally(() => this.schedule());
    }, this.timing.everyMs);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    const token = randomUUID();
    let heard!: () => void;
    const wasHeard = new Promise<boolean>((resolve) => {
      heard = () => resolve(true);
    });
    this.awaited = { token, heard };
    try {
      const sent = this.pool`SELECT pg_notify(${NODE_CHANGED_CHANNEL}, ${probePayload(token)})`;
      // A pool that cannot send in time (a stuck database) proves nothing about LISTEN,
      // and must not stop the probing: the send is left to finish or fail by itself.
      if (!(await this.within(sent.then(() => true)))) {
        sent.catch(() => undefined);
        return;
      }
      if (!(await this.within(wasHeard)) && !this.closed) await this.replace();
    } finally {
      this.awaited = undefined;
    }
  }

  /** What `promise` resolves to, or false after `timeoutMs`. */
  private async within(promise: Promise<boolean>): Promise<boolean> {
    let timeout: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timeout = setTimeout(() => resolve(false), this.timing.timeoutMs);
    });
    try {
      return await Promise.race([promise, late]);
    } finally {
      clearTimeout(timeout);
    }
  }

  /** The connection fell silent: dropped (its socket destroyed), a new one listens. */
  private async replace(): Promise<void> {
    this.replaced++;
    void this.client?.end({ timeout: 0 }).catch(() => undefined);
    await this.listen(true);
  }
}

/** Not a notice (parseNotice skips it), so other masters on the channel ignore it. */
function probePayload(token: string): string {
  return JSON.stringify({ probe: token });
}
