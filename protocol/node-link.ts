import { type Context, Dealer } from "zeromq";
import { type Logger, silentLogger } from "../common/index.js";
import { decodeFrame, encodeMessage } from "./codec.js";
import {
  LinkClosedError,
  MessageAuthError,
  MessageInvalidError,
  RemoteError,
  RequestTimeoutError,
} from "./errors.js";
import { HandshakeWatch } from "./handshake-watch.js";
import { decodeKey, type KeyPair } from "./keys.js";
import {
  DEFAULT_HEARTBEAT,
  DEFAULT_LIMITS,
  type HeartbeatOptions,
  type LinkLimits,
  linkSocketOptions,
} from "./limits.js";
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
import { SendQueue } from "./send-queue.js";
import { ThrottledWarnings } from "./throttled-warnings.js";
import { validateMasterPush, validateMasterReply } from "./validate.js";

export interface NodeLinkOptions {
  /** The master's ROUTER endpoint, e.g. `tcp://10.0.0.1:5660`. */
  endpoint: string;
  /** The master's public key, pinned: a server without its secret key fails the handshake. */
  masterPublicKey: string;
  /** This node's own key pair; only the public half is known to the master. */
  keyPair: KeyPair;
  /** How long a request waits for its reply, ms (default 10 000). */
  timeoutMs?: number;
  limits?: Partial<LinkLimits>;
  heartbeat?: Partial<HeartbeatOptions>;
  /**
   * Watch handshakes (default true; one more socket): timeout errors then name a refused
   * key or a wrong master key, and the link dials again `redialMs` after such a refusal.
   */
  observe?: boolean;
  /** Wait before dialing again after the master refused the handshake, ms (default 5 000). */
  redialMs?: number;
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
 * The node's end of the link: a CURVE DEALER pinned to the master's key. Requests may
 * be issued concurrently; each resolves with its own reply or rejects with a typed
 * error (timeout, master's error reply, closed link). ZeroMQ reconnects by itself; a
 * request issued while the link is down waits (up to its timeout) for it to come back.
 * Telemetry reaches it from the buffer's forwarder through a TelemetrySink.
 */
export class NodeLink {
  private readonly socket: Dealer;
  private readonly handshakes: HandshakeWatch | undefined;
  private readonly linkKey: Buffer;
  private readonly queue: SendQueue;
  private readonly pending = new Map<number, Pending>();
  private readonly timeoutMs: number;
  private readonly limits: LinkLimits;
  private readonly logger: Logger;
  private readonly warnings: ThrottledWarnings;
  private readonly loop: Promise<void>;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: NodeLinkOptions) {
    decodeKey(options.masterPublicKey, "master public key");
    decodeKey(options.keyPair.publicKey, "node public key");
    decodeKey(options.keyPair.secretKey, "node secret key");
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.logger = options.logger ?? silentLogger;
    this.warnings = new ThrottledWarnings(this.logger);
    this.linkKey = deriveLinkKey(options.keyPair.secretKey, options.masterPublicKey, {
      node: options.keyPair.publicKey,
      master: options.masterPublicKey,
    });
    this.socket = new Dealer({
      ...(options.context ? { context: options.context } : {}),
      curveServerKey: options.masterPublicKey,
      curvePublicKey: options.keyPair.publicKey,
      curveSecretKey: options.keyPair.secretKey,
      // Queue nothing for a link that is not up: the send waits for the link instead, so
      // a request its caller gave up on meanwhile is never sent (see SendQueue).
      immediate: true,
      ...linkSocketOptions(this.limits, { ...DEFAULT_HEARTBEAT, ...options.heartbeat }),
    });
    this.handshakes =
      options.observe === false
        ? undefined
        : new HandshakeWatch(this.socket, options.endpoint, options.redialMs ?? 5_000, this.logger);
    this.queue = new SendQueue((frames) => this.socket.send(frames));
    this.socket.connect(options.endpoint);
    this.loop = this.receive();
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
    // The socket first: the handshake watch ends on the "monitor stopped" this causes.
    this.socket.close();
    const watching = this.handshakes?.close();
    await Promise.all([this.loop, watching]);
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
        finish();
        reject(new RequestTimeoutError(message.type, this.timeoutMs, this.handshakes?.last));
      }, this.timeoutMs);
      const onAbort = (): void => {
        finish();
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, {
        type: message.type,
        resolve: (reply) => {
          finish();
          resolve(reply);
        },
        reject: (err) => {
          finish();
          reject(err);
        },
      });
      const wanted = (): boolean => this.pending.has(id);
      this.queue.send([authenticate(this.linkKey, frame), frame], wanted).catch((err: unknown) => {
        this.pending.get(id)?.reject(this.closed ? new LinkClosedError() : (err as Error));
      });
    });
  }

  private allocateId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
      if (!this.pending.has(id)) return id;
    }
  }

  private async receive(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        if (frames.length === 2) {
          this.takePush(frames);
          continue;
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
          continue;
        }
        const pending = this.pending.get(reply.id);
        if (!pending) continue; // the request timed out or was aborted already
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
    } catch (err) {
      if (!this.closed) this.logger.error({ err }, "link.receive_failed");
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
