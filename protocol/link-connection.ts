import { type Context, Dealer } from "zeromq";
import type { Logger } from "../common/index.js";
import { HandshakeWatch, type LinkSignal } from "./handshake-watch.js";
import type { KeyPair } from "./keys.js";
import type { linkSocketOptions } from "./limits.js";
import { SendQueue } from "./send-queue.js";

export interface LinkConnectionOptions {
  endpoint: string;
  masterPublicKey: string;
  keyPair: KeyPair;
  socketOptions: ReturnType<typeof linkSocketOptions>;
  context?: Context;
  /** Watch handshakes (undefined: no watch, one socket less). */
  watch?: { redialMs?: number; onSignal?: (signal: LinkSignal) => void };
  logger: Logger;
  /** Every message the master sends on this connection. */
  onMessage(frames: Buffer[]): void;
}

/**
 * One CURVE DEALER connected to one master endpoint, with its handshake watch, its send
 * queue and its receive loop. A link holds one at a time; a link that fails over closes
 * it and opens a fresh one to the next master (a DEALER given several endpoints would
 * spread requests over them all, and keep sending to a frozen one).
 */
export class LinkConnection {
  readonly endpoint: string;
  readonly socket: Dealer;
  readonly queue: SendQueue;
  /** When its handshake completed; undefined before. */
  upAt: number | undefined;
  /** When the master last sent a message on it; undefined before the first. */
  lastMessageAt: number | undefined;
  /** Set once the link gave it up: a send it was waiting on never went out. */
  retired = false;
  private readonly watch: HandshakeWatch | undefined;
  private readonly loop: Promise<void>;

  constructor(private readonly options: LinkConnectionOptions) {
    this.endpoint = options.endpoint;
    this.socket = new Dealer({
      ...(options.context ? { context: options.context } : {}),
      curveServerKey: options.masterPublicKey,
      curvePublicKey: options.keyPair.publicKey,
      curveSecretKey: options.keyPair.secretKey,
      // Queue nothing for a link that is not up: the send waits for the link instead, so
      // a request its caller gave up on meanwhile is never sent (see SendQueue).
      immediate: true,
      ...(options.endpoint.startsWith("tcp://[") ? { ipv6: true } : {}),
      ...options.socketOptions,
    });
    this.watch = options.watch
      ? new HandshakeWatch(
          this.socket,
          options.endpoint,
          options.watch.redialMs,
          options.logger,
          options.watch.onSignal,
        )
      : undefined;
    this.queue = new SendQueue((frames) => this.socket.send(frames));
    this.socket.connect(options.endpoint);
    this.loop = this.receive();
  }

  /** The last handshake's outcome in words, when watched. */
  get lastHandshake(): string | undefined {
    return this.watch?.last;
  }

  /** Releases its sockets (the DEALER, then the watch's monitor pair) and ends its loop. */
  async close(): Promise<void> {
    this.retired = true;
    if (this.socket.closed) return;
    // The socket first: the handshake watch ends on the "monitor stopped" this causes.
    this.socket.close();
    await Promise.all([this.loop, this.watch?.close()]);
  }

  private async receive(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        this.lastMessageAt = Date.now();
        this.options.onMessage(frames);
      }
    } catch (err) {
      if (!this.retired) this.options.logger.error({ err }, "link.receive_failed");
    }
  }
}
