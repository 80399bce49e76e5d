import type { Context } from "zeromq";
import { type Logger, silentLogger } from "../common/index.js";
import { decodeFrame, encodeMessage } from "./codec.js";
import { ConnectionKeeper, type FailoverEvent } from "./connection-keeper.js";
import { isFixed, parseEndpoints, type Resolve, resolveByLookup } from "./endpoints.js";
import {
  LinkClosedError,
  LinkConfigError,
  LinkFailoverError,
  MessageAuthError,
  MessageInvalidError,
  RemoteError,
  RequestTimeoutError,
} from "./errors.js";
import { decodeKey, type KeyPair } from "./keys.js";
import {
  DEFAULT_FAILOVER,
  DEFAULT_HEARTBEAT,
  DEFAULT_LIMITS,
  FAILOVER_HEARTBEAT,
  type FailoverOptions,
  type HeartbeatOptions,
  type LinkLimits,
  linkSocketOptions,
} from "./limits.js";
import { LinkConnection } from "./link-connection.js";
import { authenticate, deriveLinkKey, verifyPushAuthenticator } from "./message-auth.js";
import {
  type Ack,
  type Chunk,
  type DesiredState,
  type Hello,
  type Loss,
  type MasterReply,
  type NodeRequest,
  PROTOCOL_VERSION,
  type RejectedInstance,
  type Report,
  type RequestBody,
  type SchemaAnnouncement,
  type Welcome,
} from "./messages.js";
import { ThrottledWarnings } from "./throttled-warnings.js";
import { validateMasterPush, validateMasterReply } from "./validate.js";

export interface NodeLinkOptions {
  /**
   * The master's ROUTER endpoint, e.g. `tcp://10.0.0.1:5660`, or the endpoints of several
   * masters sharing one key pair: the link then holds one at a time and fails over. One
   * endpoint whose host is a DNS name counts as the name's addresses.
   */
  endpoint: string | readonly string[];
  /** The master's public key, pinned: a server without its secret key fails the handshake. */
  masterPublicKey: string;
  /** This node's own key pair; only the public half is known to the master. */
  keyPair: KeyPair;
  /** How long a request waits for its reply, ms (default 10 000). */
  timeoutMs?: number;
  limits?: Partial<LinkLimits>;
  /** Default: `DEFAULT_HEARTBEAT` on one fixed address, `FAILOVER_HEARTBEAT` otherwise. */
  heartbeat?: Partial<HeartbeatOptions>;
  /**
   * Watch handshakes (default true; one more socket): timeout errors then name a refused
   * key or a wrong master key, and the link dials again `redialMs` after such a refusal.
   * Failing over needs it: `false` with several masters is `E_PROTOCOL_CONFIG`.
   */
  observe?: boolean;
  /** Wait before dialing again after the master refused the handshake, ms (default 5 000). */
  redialMs?: number;
  /** How the link moves between masters (default `DEFAULT_FAILOVER`). */
  failover?: Partial<FailoverOptions>;
  /** Told once the link is up on another master (say hello again, sync now). */
  onFailover?: (event: FailoverEvent) => void;
  /** Addresses of a DNS name (default: node:dns `lookup(host, { all: true })`). */
  resolve?: Resolve;
  /** In [0, 1): the first master tried and the jitter of moves (default `Math.random`). */
  random?: () => number;
  /** Share a ZeroMQ context among many links (benches simulating many nodes). */
  context?: Context;
  /**
   * Called when the master pushes a `wake` (this node's desired state changed: sync
   * now), once it is checked to be the master's and meant for this node. Without it,
   * wakes are dropped quietly.
   */
  onWake?: () => void;
  logger?: Logger;
}

interface Pending {
  type: NodeRequest["type"];
  /** Kept after the send only while it may have to go again (failing over). */
  frames: Uint8Array[] | undefined;
  /** The connection it went out on, and when, once sent. */
  sentOn?: LinkConnection;
  sentAt?: number;
  resolve(reply: MasterReply): void;
  reject(err: Error): void;
}

const EXPECTED_REPLY: Record<NodeRequest["type"], MasterReply["type"]> = {
  hello: "welcome",
  sync: "desired",
  report: "ack",
  telemetry: "ack",
  loss: "ack",
  schema: "ack",
};

/**
 * Whether a request sent to a master that is then given up goes again to the next one.
 * The master dedupes telemetry, losses and schemas by id (`UNIQUE (node, chunk id)`),
 * and hello and sync read or set what they set; a report is left to its sender.
 */
const RESENT_ON_FAILOVER: Record<NodeRequest["type"], boolean> = {
  hello: true,
  sync: true,
  report: false,
  telemetry: true,
  loss: true,
  schema: true,
};

/**
 * The node's end of the link: a CURVE DEALER pinned to the master's key. Requests may
 * be issued concurrently; each resolves with its own reply or rejects with a typed
 * error (timeout, master's error reply, closed link, failover). A request issued while
 * the link is down waits (up to its timeout) for it to come back. Telemetry reaches it
 * from the buffer's forwarder through a TelemetrySink.
 *
 * Given one fixed address, ZeroMQ reconnects by itself. Given several masters it holds
 * one and moves to the next once that one is gone: the connection dropped or refused,
 * heartbeats unanswered (a frozen master sends no reset), no handshake in time, or a
 * request that got no reply while nothing else came from that master either.
 */
export class NodeLink {
  private readonly keeper: ConnectionKeeper;
  private readonly linkKey: Buffer;
  private readonly pending = new Map<number, Pending>();
  private readonly timeoutMs: number;
  private readonly limits: LinkLimits;
  private readonly logger: Logger;
  private readonly warnings: ThrottledWarnings;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: NodeLinkOptions) {
    decodeKey(options.masterPublicKey, "master public key");
    decodeKey(options.keyPair.publicKey, "node public key");
    decodeKey(options.keyPair.secretKey, "node secret key");
    const endpoints = parseEndpoints(
      typeof options.endpoint === "string" ? [options.endpoint] : options.endpoint,
    );
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.logger = options.logger ?? silentLogger;
    this.warnings = new ThrottledWarnings(this.logger);
    this.linkKey = deriveLinkKey(options.keyPair.secretKey, options.masterPublicKey, {
      node: options.keyPair.publicKey,
      master: options.masterPublicKey,
    });
    const failover = { ...DEFAULT_FAILOVER, ...options.failover };
    const fixed = isFixed(endpoints);
    if (!fixed && options.observe === false)
      throw new LinkConfigError("failing over between masters needs the handshake watch (observe)");
    const socketOptions = linkSocketOptions(this.limits, {
      ...(fixed ? DEFAULT_HEARTBEAT : FAILOVER_HEARTBEAT),
      ...options.heartbeat,
    });
    this.keeper = new ConnectionKeeper({
      endpoints,
      failover,
      resolve: options.resolve ?? resolveByLookup,
      random: options.random ?? Math.random,
      logger: this.logger,
      open: (endpoint, onSignal) => {
        const observe = options.observe !== false;
        return new LinkConnection({
          endpoint,
          masterPublicKey: options.masterPublicKey,
          keyPair: options.keyPair,
          socketOptions,
          ...(options.context ? { context: options.context } : {}),
          ...(observe
            ? { watch: onSignal ? { onSignal } : { redialMs: options.redialMs ?? 5_000 } }
            : {}),
          logger: this.logger,
          onMessage: (frames) => this.received(frames),
        });
      },
      onRetired: (connection) => this.retired(connection),
      ...(options.onFailover ? { onFailover: options.onFailover } : {}),
    });
  }

  /** The master endpoint the link holds now; undefined while it moves. */
  get endpoint(): string | undefined {
    return this.keeper.endpoint;
  }

  /** How many times the link moved to another master. */
  get failovers(): number {
    return this.keeper.moves;
  }

  /** Introduces the node; the master answers with the name the operator gave it. */
  async hello(body: RequestBody<Hello>): Promise<Welcome> {
    return (await this.request({ ...body, type: "hello" })) as Welcome;
  }

  /** The node's desired state: software to install, instances to run. */
  async sync(): Promise<DesiredState> {
    return (await this.request({ type: "sync" })) as DesiredState;
  }

  /**
   * Instance status, promise results, connection parameters and usage; resolves with
   * the instances the master dropped as invalid (the rest were applied).
   */
  async report(body: RequestBody<Report>): Promise<RejectedInstance[]> {
    const ack = (await this.request({ ...body, type: "report" })) as Ack;
    return ack.rejected ?? [];
  }

  /**
   * Sends a sealed chunk; resolves once the master has committed it (again, if it had
   * it already: `duplicate` is then true).
   */
  async send(chunk: Chunk, signal?: AbortSignal): Promise<{ chunkId: number; duplicate: boolean }> {
    // Exactly a Chunk: the master refuses unknown fields.
    const ack = (await this.request({ type: "telemetry", ...chunk }, signal)) as Ack;
    return { chunkId: ack.chunkId ?? chunk.chunkId, duplicate: ack.duplicate === true };
  }

  /** Reports records that will never arrive; resolves once the master has committed it. */
  async sendLoss(loss: Loss, signal?: AbortSignal): Promise<{ lossId: number }> {
    const { id, ...rest } = loss;
    await this.request({ type: "loss", lossId: id, ...rest }, signal);
    return { lossId: id };
  }

  /** Sends a record schema; resolves once the master has committed it (or held it already). */
  async sendSchema(
    announcement: SchemaAnnouncement,
    signal?: AbortSignal,
  ): Promise<{ duplicate: boolean }> {
    const { fingerprint, schema } = announcement;
    const ack = (await this.request({ type: "schema", fingerprint, schema }, signal)) as Ack;
    return { duplicate: ack.duplicate === true };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new LinkClosedError());
    this.pending.clear();
    await this.keeper.close();
  }

  private request(
    body: DistributiveOmit<NodeRequest, "v" | "id" | "node">,
    signal?: AbortSignal,
  ): Promise<MasterReply> {
    if (this.closed) return Promise.reject(new LinkClosedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = this.allocateId();
    const message = {
      ...body,
      v: PROTOCOL_VERSION,
      id,
      node: this.options.keyPair.publicKey,
    } as NodeRequest;
    const frame = encodeMessage(message);
    return new Promise<MasterReply>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.pending.delete(id);
      };
      const timer = setTimeout(() => {
        const sent = this.pending.get(id);
        finish();
        reject(new RequestTimeoutError(message.type, this.timeoutMs, this.keeper.lastHandshake));
        if (sent) this.unanswered(sent);
      }, this.timeoutMs);
      const onAbort = (): void => {
        finish();
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, {
        type: message.type,
        frames: [authenticate(this.linkKey, frame), frame],
        resolve: (reply) => {
          finish();
          resolve(reply);
        },
        reject: (err) => {
          finish();
          reject(err);
        },
      });
      this.transmit(id);
    });
  }

  /**
   * Sends a pending request on the connection held now, waiting for one while the link
   * moves. A send the connection was given up before it went out goes to the next one.
   */
  private transmit(id: number): void {
    const wanted = (): boolean => this.pending.has(id);
    const attempt = async (): Promise<void> => {
      for (;;) {
        const connection = await this.keeper.connection();
        const frames = this.pending.get(id)?.frames;
        if (!frames) return;
        try {
          await connection.queue.send(frames, wanted);
        } catch (err) {
          if (connection.retired && !this.closed) continue;
          throw err;
        }
        const sent = this.pending.get(id);
        if (!sent) return;
        sent.sentOn = connection;
        sent.sentAt = Date.now();
        if (!this.keeper.failsOver) sent.frames = undefined;
        // Given up while the send completed: what went out may be lost with it.
        if (connection.retired) this.again(id, sent, connection);
        return;
      }
    };
    attempt().catch((err: unknown) => {
      this.pending.get(id)?.reject(this.closed ? new LinkClosedError() : (err as Error));
    });
  }

  /** What went out on a connection now given up: sent again, or failed for its sender. */
  private retired(connection: LinkConnection): void {
    if (this.closed) return;
    for (const [id, p] of this.pending) if (p.sentOn === connection) this.again(id, p, connection);
  }

  private again(id: number, p: Pending, from: LinkConnection): void {
    if (!RESENT_ON_FAILOVER[p.type]) {
      p.reject(new LinkFailoverError(p.type, from.endpoint));
      return;
    }
    p.sentOn = undefined;
    p.sentAt = undefined;
    this.transmit(id);
  }

  /**
   * A request got no reply within its timeout. When nothing else came from that master
   * in that time either, it is not serving this node (frozen, or its event loop hung
   * while ZeroMQ still answers heartbeats): the link moves on. A master that answers
   * anything is merely slow, and kept.
   */
  private unanswered({ sentOn, sentAt = 0, type }: Pending): void {
    if (!sentOn || !this.keeper.failsOver) return;
    if (sentOn.lastMessageAt !== undefined && sentOn.lastMessageAt >= sentAt) return;
    this.keeper.gone(sentOn, `no reply to '${type}' nor anything else within ${this.timeoutMs} ms`);
  }

  private allocateId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
      if (!this.pending.has(id)) return id;
    }
  }

  private received(frames: Buffer[]): void {
    if (frames.length === 2) {
      this.takePush(frames);
      return;
    }
    let reply: MasterReply;
    try {
      if (frames.length !== 1 || !frames[0]) {
        throw new MessageInvalidError(
          `expected 1 frame (a reply) or 2 (a push), got ${frames.length}`,
          undefined,
        );
      }
      reply = validateMasterReply(decodeFrame(frames[0], this.limits.maxMessageBytes));
    } catch (err) {
      this.warnings.warn("link.reply_rejected", { error: (err as Error).message });
      return;
    }
    const pending = this.pending.get(reply.id);
    if (!pending) return; // the request timed out or was aborted already
    if (reply.type === "error") {
      pending.reject(new RemoteError(reply.code, reply.message));
    } else if (reply.type !== EXPECTED_REPLY[pending.type]) {
      pending.reject(
        new MessageInvalidError(`'${pending.type}' answered with '${reply.type}'`, reply.id),
      );
    } else {
      pending.resolve(reply);
    }
  }

  /**
   * A push: `[authenticator, message]`. Only the master's and only for this node: the
   * authenticator holds under the link key in the master's direction (checked before a
   * byte is parsed) and `node` is this node's key. Anything else is dropped with a
   * throttled warning; it never reaches `onWake`, and never stops the link.
   */
  private takePush([mac, body]: Buffer[]): void {
    try {
      if (!mac || !body || !verifyPushAuthenticator(this.linkKey, body, mac))
        throw new MessageAuthError("push authenticator does not match", undefined);
      const push = validateMasterPush(decodeFrame(body, this.limits.maxMessageBytes));
      if (push.node !== this.options.keyPair.publicKey)
        throw new MessageInvalidError(`push for node ${push.node}, not this one`, undefined);
    } catch (err) {
      this.warnings.warn("link.push_rejected", { error: (err as Error).message });
      return;
    }
    try {
      this.options.onWake?.();
    } catch (err) {
      this.logger.error({ err }, "link.wake_failed");
    }
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
