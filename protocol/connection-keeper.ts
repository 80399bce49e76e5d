import { Backoff, type Logger } from "../common/index.js";
import { EndpointRing, isFixed, type MasterEndpoint, type Resolve } from "./endpoints.js";
import { LinkClosedError } from "./errors.js";
import type { LinkSignal } from "./handshake-watch.js";
import type { FailoverOptions } from "./limits.js";
import type { LinkConnection } from "./link-connection.js";

/**
 * A connection up this long had a master serving it, replies or not (an idle link sees
 * none): the next move starts from the shortest wait again. Shorter-lived ones are a
 * master accepting and dropping nodes, which must not make them dial in a tight loop.
 */
const SERVED_AFTER_MS = 30_000;

/** The link is up on another master, after leaving `from` for `reason`. */
export interface FailoverEvent {
  from: string;
  to: string;
  reason: string;
}

export interface ConnectionKeeperOptions {
  endpoints: readonly MasterEndpoint[];
  /** Opens a connection; `onSignal` is given when the link fails over. */
  open(endpoint: string, onSignal?: (signal: LinkSignal) => void): LinkConnection;
  failover: FailoverOptions;
  resolve: Resolve;
  random: () => number;
  logger: Logger;
  /** A connection was given up: what was sent on it and not answered must go again or fail. */
  onRetired(connection: LinkConnection): void;
  onFailover?(event: FailoverEvent): void;
}

/**
 * Holds a link's one connection. With one fixed address it keeps a single connection
 * and ZeroMQ reconnects it by itself, as a lone master's node always did. With several
 * masters (or a DNS name, which may stand for several) it fails over: once its master
 * is gone it closes the connection and opens a fresh one to the next endpoint of the
 * ring, after a full-jitter exponential wait.
 */
export class ConnectionKeeper {
  /** Moves to another connection since the link opened. */
  moves = 0;
  private current: LinkConnection | undefined;
  private waiters: { resolve(c: LinkConnection): void; reject(e: Error): void }[] = [];
  private readonly closing = new Set<Promise<void>>();
  private readonly ring: EndpointRing | undefined;
  private readonly backoff: Backoff;
  private moving: Promise<void> = Promise.resolve();
  private pause: { timer: NodeJS.Timeout; resolve(): void } | undefined;
  private deadline: NodeJS.Timeout | undefined;
  /** Why the link left its last master, told once the next one is up. */
  private left: { from: string; reason: string } | undefined;
  private closed = false;

  constructor(private readonly options: ConnectionKeeperOptions) {
    this.backoff = new Backoff({ ...options.failover.backoff, jitter: "full" }, options.random);
    const [only] = options.endpoints;
    if (only && isFixed(options.endpoints)) {
      this.install(options.open(only.text));
      return;
    }
    this.ring = new EndpointRing(
      options.endpoints,
      options.random(),
      options.resolve,
      options.logger,
    );
    this.moving = this.move(undefined, "start", false);
  }

  /** Whether this link moves between masters. */
  get failsOver(): boolean {
    return this.ring !== undefined;
  }

  /** The endpoint of the connection held now; undefined while moving. */
  get endpoint(): string | undefined {
    return this.current?.endpoint;
  }

  get lastHandshake(): string | undefined {
    return this.current?.lastHandshake;
  }

  /** The connection to send on; waits while the link moves, rejects once it is closed. */
  connection(): Promise<LinkConnection> {
    if (this.closed) return Promise.reject(new LinkClosedError());
    if (this.current) return Promise.resolve(this.current);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /**
   * `connection`'s master is not serving it: give it up and move on. Only when failing
   * over, and only for the connection held now (a late word about an old one is moot).
   */
  gone(connection: LinkConnection, reason: string): void {
    if (!this.ring || this.closed || connection !== this.current) return;
    this.current = undefined;
    clearTimeout(this.deadline);
    this.retire(connection);
    const served =
      connection.lastMessageAt !== undefined ||
      (connection.upAt !== undefined && Date.now() - connection.upAt >= SERVED_AFTER_MS);
    this.moving = this.move(connection.endpoint, reason, served);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.deadline);
    if (this.pause) {
      clearTimeout(this.pause.timer);
      this.pause.resolve();
    }
    for (const w of this.waiters.splice(0)) w.reject(new LinkClosedError());
    if (this.current) this.retire(this.current);
    this.current = undefined;
    await this.moving;
    await Promise.all([...this.closing]);
  }

  private retire(connection: LinkConnection): void {
    const closing: Promise<void> = connection.close().finally(() => this.closing.delete(closing));
    this.closing.add(closing);
    this.options.onRetired(connection);
  }

  private install(connection: LinkConnection): void {
    this.current = connection;
    for (const w of this.waiters.splice(0)) w.resolve(connection);
  }

  private async move(from: string | undefined, reason: string, served: boolean): Promise<void> {
    const { failover, logger } = this.options;
    const ring = this.ring as EndpointRing;
    if (served) this.backoff.reset();
    for (;;) {
      const waited = from === undefined ? 0 : this.backoff.next();
      if (waited > 0) await this.sleep(waited);
      if (this.closed) return;
      const to = await ring.next(from);
      if (this.closed) return;
      if (from !== undefined) {
        this.moves++;
        this.left = { from, reason };
        logger.warn({ from, to, reason, waitedMs: waited }, "link.failover");
      }
      let connection: LinkConnection;
      try {
        connection = this.options.open(to, (signal) => this.signal(connection, signal));
      } catch (err) {
        logger.error({ endpoint: to, err }, "link.connect_failed");
        from = to;
        reason = `cannot connect: ${(err as Error).message}`;
        continue;
      }
      this.install(connection);
      this.deadline = setTimeout(() => {
        if (connection.upAt === undefined)
          this.gone(connection, `no handshake within ${failover.connectTimeoutMs} ms`);
      }, failover.connectTimeoutMs);
      return;
    }
  }

  private signal(connection: LinkConnection, signal: LinkSignal): void {
    if (connection !== this.current) return;
    switch (signal.kind) {
      case "up": {
        connection.upAt = Date.now();
        clearTimeout(this.deadline);
        const left = this.left;
        this.left = undefined;
        if (left) this.options.onFailover?.({ ...left, to: connection.endpoint });
        break;
      }
      case "disconnected":
        this.gone(connection, "connection lost (closed, reset, or no heartbeat answered)");
        break;
      case "unreachable":
        this.gone(connection, "connection refused or unreachable");
        break;
      case "refused":
        this.gone(connection, signal.why);
        break;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pause = undefined;
        resolve();
      }, ms);
      this.pause = { timer, resolve };
    });
  }
}
