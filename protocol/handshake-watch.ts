import { type Dealer, type Event, Observer } from "zeromq";
import type { Logger } from "../common/index.js";

/** How long `close()` waits for libzmq's "monitor stopped" before closing the observer itself. */
const END_WAIT_MS = 1_000;

/**
 * What the watch tells a link that fails over: the handshake succeeded (`up`), or the
 * master is not serving on this connection: it dropped it or went silent past the
 * heartbeat timeout (`disconnected`), nobody accepts the connection (`unreachable`), or
 * the handshake was refused (`refused`, with why).
 */
export type LinkSignal =
  | { kind: "up" }
  | { kind: "disconnected" }
  | { kind: "unreachable" }
  | { kind: "refused"; why: string };

/**
 * Watches a node socket's CURVE handshakes: remembers the last outcome (so a timeout can
 * say why the link is down) and dials again after a refusal. libzmq gives up on an
 * endpoint for good once the master refuses the key or the handshake fails, yet a node
 * flashed before the operator ran `outpost node add`, or a master whose key was just
 * restored, must get in without a restart of the node. A link that fails over moves to
 * another master instead (no `redialMs`) and is told what happens (`onSignal`).
 *
 * Events are read by our own loop, not through `observer.on()`: zeromq.js's emitter mode
 * leaves the read that is pending at `close()` rejected with nobody to catch it, an
 * unhandled rejection that takes the whole process down.
 */
export class HandshakeWatch {
  /** The last handshake's outcome in words; undefined before the first one. */
  last: string | undefined;
  private readonly observer: Observer;
  private readonly loop: Promise<void>;
  private redialTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Dealer,
    private readonly endpoint: string,
    private readonly redialMs: number | undefined,
    private readonly logger: Logger,
    private readonly onSignal?: (signal: LinkSignal) => void,
  ) {
    this.observer = new Observer(socket);
    this.loop = this.watch();
  }

  /**
   * Call after closing the watched socket. libzmq then sends a last "monitor stopped"
   * event, on which the observer closes itself; closing the observer before that leaves
   * libzmq's monitor half open, and the watched socket (and the observer's inproc name)
   * is never released: the context runs out of sockets and a later observer allocated
   * at the same address fails with EADDRINUSE.
   */
  async close(): Promise<void> {
    clearTimeout(this.redialTimer);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.observer.close();
        resolve();
      }, END_WAIT_MS);
    });
    await Promise.race([this.loop, gaveUp]);
    clearTimeout(timer);
    await this.loop;
  }

  private async watch(): Promise<void> {
    try {
      for await (const event of this.observer) this.seen(event);
    } catch (err) {
      // A read pending when the observer closes fails; anything else is worth a line.
      if (!this.observer.closed) this.logger.warn({ err }, "link.observer_failed");
    }
  }

  private seen(event: Event): void {
    switch (event.type) {
      case "handshake":
        this.last = "succeeded";
        this.onSignal?.({ kind: "up" });
        break;
      case "handshake:error:auth":
        this.last = `master refused this node's key (ZAP ${event.error.status ?? "denied"})`;
        this.logger.warn({ endpoint: event.address, retryInMs: this.redialMs }, "link.key_refused");
        this.refused(this.last);
        break;
      case "handshake:error:protocol":
        this.last = `CURVE handshake failed (${event.error.message}); is the pinned master key right?`;
        this.logger.warn(
          { endpoint: event.address, error: event.error.message, retryInMs: this.redialMs },
          "link.handshake_failed",
        );
        this.refused(this.last);
        break;
      case "handshake:error:other":
        this.last = `handshake failed (${event.error.message})`;
        break;
      case "disconnect":
        this.onSignal?.({ kind: "disconnected" });
        break;
      case "connect:retry":
        this.onSignal?.({ kind: "unreachable" });
        break;
    }
  }

  private refused(why: string): void {
    this.onSignal?.({ kind: "refused", why });
    this.redial();
  }

  private redial(): void {
    if (this.redialTimer || this.redialMs === undefined) return;
    this.redialTimer = setTimeout(() => {
      this.redialTimer = undefined;
      if (this.socket.closed) return;
      try {
        this.socket.disconnect(this.endpoint);
      } catch {
        // libzmq may have dropped the endpoint already; connecting again is what matters.
      }
      this.socket.connect(this.endpoint);
    }, this.redialMs);
  }
}
