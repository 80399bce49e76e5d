import { Context, Router } from "zeromq";
import { hasCode } from "../common/errors.js";
import { type Logger, silentLogger } from "../common/index.js";
import { decodeFrame, encodeMessage } from "./codec.js";
import {
  ListenError,
  MessageAuthError,
  MessageDecodeError,
  MessageInvalidError,
} from "./errors.js";
import type { KeyPair } from "./keys.js";
import {
  DEFAULT_HEARTBEAT,
  DEFAULT_LIMITS,
  type HeartbeatOptions,
  type LinkLimits,
  linkSocketOptions,
} from "./limits.js";
import {
  AUTHENTICATOR_BYTES,
  authenticatePush,
  deriveLinkKey,
  verifyAuthenticator,
} from "./message-auth.js";
import {
  type MasterReply,
  type NodeRequest,
  PROTOCOL_VERSION,
  type ProtocolVersion,
  PUSH_SINCE_VERSION,
  type Wake,
} from "./messages.js";
import { SendQueue } from "./send-queue.js";
import { ThrottledWarnings } from "./throttled-warnings.js";
import { supportedVersionOf, validateNodeRequest } from "./validate.js";
import { type KeyAuthorizer, ZapHandler } from "./zap-handler.js";

export const ZAP_DOMAIN = "outpost";

/** Requests handled at once; above it the server stops reading and ZeroMQ holds the rest. */
const MAX_IN_FLIGHT = 10_000;

/** A reply as a handler returns it; the server adds `v` and `id`. */
export type ReplyBody = DistributiveOmit<MasterReply, "v" | "id">;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * Requests of a node's control link, the one that syncs: a wake goes where the last of
 * these came from. A node's telemetry may travel on another link (the agent's relay),
 * whose requests must not draw the wake away from the link that acts on it.
 */
const CONTROL_TYPES: ReadonlySet<NodeRequest["type"]> = new Set(["hello", "sync", "report"]);

/** Where a node's control link was last heard from. */
interface Route {
  routingId: Buffer;
  version: ProtocolVersion;
  heardAt: number;
}

/** Why an inbound message was not handed to the handler. */
export type RejectReason = "too_large" | "decode" | "invalid" | "auth";

const REJECT_REASONS: Record<string, RejectReason> = {
  E_PROTOCOL_TOO_LARGE: "too_large",
  E_PROTOCOL_DECODE: "decode",
  E_PROTOCOL_INVALID: "invalid",
  E_PROTOCOL_AUTH: "auth",
};

export interface ServerObserver {
  accepted?(type: NodeRequest["type"]): void;
  rejected?(reason: RejectReason): void;
  denied?(publicKey: string): void;
}

export interface ProtocolServerOptions {
  /** Where the ROUTER binds, e.g. `tcp://127.0.0.1:5660` (`:*` for an ephemeral port). */
  endpoint: string;
  /** The master's own key pair. */
  keyPair: KeyPair;
  /** Whether a node key may connect at all (ZAP). */
  authorize: KeyAuthorizer;
  /**
   * Answers one validated, authenticated request. A thrown error with a string `code`
   * becomes an error reply with that code; anything else becomes `E_INTERNAL`.
   */
  handle(request: NodeRequest): Promise<ReplyBody>;
  logger?: Logger;
  observer?: ServerObserver;
  limits?: Partial<LinkLimits>;
  heartbeat?: Partial<HeartbeatOptions>;
}

/**
 * The master's end of the link: a CURVE ROUTER that admits known node keys only (ZAP),
 * checks every frame's size, decodes and validates every message, checks that it
 * really comes from the node it names, and answers each request exactly once. A bad
 * message costs the sender an error reply (or a drop when not even its id is readable);
 * it never stops the loop, so other nodes are unaffected.
 */
export class ProtocolServer {
  private readonly linkKeys = new Map<string, Buffer>();
  private readonly routes = new Map<string, Route>();
  private readonly warnings: ThrottledWarnings;
  private readonly queue: SendQueue;
  private inFlight = 0;
  private reading = true;
  private resumeReading: (() => void) | undefined;
  private loop: Promise<void> = Promise.resolve();

  private constructor(
    private readonly options: ProtocolServerOptions,
    private readonly router: Router,
    private readonly zap: ZapHandler,
    private readonly logger: Logger,
    private readonly limits: LinkLimits,
  ) {
    this.warnings = new ThrottledWarnings(logger);
    this.queue = new SendQueue((frames) => this.router.send(frames));
  }

  static async listen(options: ProtocolServerOptions): Promise<ProtocolServer> {
    const logger = options.logger ?? silentLogger;
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    const heartbeat = { ...DEFAULT_HEARTBEAT, ...options.heartbeat };
    const context = new Context();
    const warnings = new ThrottledWarnings(logger);
    const zap = await ZapHandler.start(
      context,
      ZAP_DOMAIN,
      async (key, address) => {
        const ok = await options.authorize(key, address);
        if (!ok) {
          options.observer?.denied?.(key);
          warnings.warn("link.denied", { key, address });
        }
        return ok;
      },
      logger,
    );
    const router = new Router({
      context,
      curveServer: true,
      curvePublicKey: options.keyPair.publicKey,
      curveSecretKey: options.keyPair.secretKey,
      zapDomain: ZAP_DOMAIN,
      zapEnforceDomain: true,
      ...linkSocketOptions(limits, heartbeat),
    });
    try {
      await router.bind(options.endpoint);
    } catch (err) {
      router.close();
      await zap.close();
      throw new ListenError(options.endpoint, (err as Error).message, { cause: err });
    }
    const server = new ProtocolServer(options, router, zap, logger, limits);
    server.loop = server.run();
    logger.info({ endpoint: server.endpoint }, "link.listening");
    return server;
  }

  /** Bound and reading: false once closed, or once its receive loop failed. */
  get bound(): boolean {
    return this.reading && !this.router.closed;
  }

  /** The bound endpoint, with the real port when bound to `:*`. */
  get endpoint(): string {
    return this.router.lastEndpoint ?? this.options.endpoint;
  }

  /**
   * Tells a node to sync now, on the link its last hello, sync or report came in on
   * (authenticated: a message naming a key never moves that key's route unless it
   * carries the key's authenticator). False when this server never heard that node's
   * control link, or heard it speak version 1 (no push: it finds the change by its own
   * periodic sync). The wake is queued, not confirmed: a node whose link went away
   * since never gets it, and syncs anyway once it is back.
   */
  wake(nodeKey: string): boolean {
    const route = this.routes.get(nodeKey);
    if (!route || route.version < PUSH_SINCE_VERSION || this.router.closed) return false;
    const push: Wake = { v: PUSH_SINCE_VERSION, type: "wake", node: nodeKey };
    const body = encodeMessage(push);
    const mac = authenticatePush(this.linkKeyOf(nodeKey), body);
    this.queue.send([route.routingId, mac, body]).catch((err: unknown) => {
      if (!this.router.closed) this.warnings.warn("link.push_failed", { err, node: nodeKey });
    });
    return true;
  }

  /** Node keys whose control link was heard from within `withinMs` (every one known without it). */
  heldKeys(withinMs = Number.POSITIVE_INFINITY, now = Date.now()): string[] {
    const keys: string[] = [];
    for (const [key, route] of this.routes) if (now - route.heardAt < withinMs) keys.push(key);
    return keys;
  }

  async close(): Promise<void> {
    this.router.close();
    await this.loop;
    await this.zap.close();
  }

  private async run(): Promise<void> {
    try {
      for await (const frames of this.router) {
        while (this.inFlight >= MAX_IN_FLIGHT) {
          await new Promise<void>((resolve) => {
            this.resumeReading = resolve;
          });
        }
        this.inFlight++;
        void this.process(frames).finally(() => {
          this.inFlight--;
          const resume = this.resumeReading;
          this.resumeReading = undefined;
          resume?.();
        });
      }
    } catch (err) {
      if (!this.router.closed) this.logger.error({ err }, "link.receive_failed");
    } finally {
      this.reading = false;
    }
  }

  private async process(frames: Buffer[]): Promise<void> {
    const [routingId, mac, body] = frames;
    if (!routingId) return;
    let request: NodeRequest;
    let decoded: unknown;
    try {
      if (frames.length !== 3 || !mac || !body || mac.length !== AUTHENTICATOR_BYTES) {
        throw new MessageDecodeError(
          `expected 2 frames (authenticator, message), got ${frames.length - 1}`,
        );
      }
      decoded = decodeFrame(body, this.limits.maxMessageBytes);
      request = validateNodeRequest(decoded);
      if (!verifyAuthenticator(this.requestLinkKey(request), body, mac)) {
        throw new MessageAuthError(
          `authenticator does not match node key ${request.node}`,
          request.id,
        );
      }
    } catch (err) {
      await this.refuse(routingId, err, supportedVersionOf(decoded) ?? PROTOCOL_VERSION);
      return;
    }
    if (CONTROL_TYPES.has(request.type))
      this.routes.set(request.node, { routingId, version: request.v, heardAt: Date.now() });
    this.options.observer?.accepted?.(request.type);
    let reply: ReplyBody;
    try {
      reply = await this.options.handle(request);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === "string" && err instanceof Error) {
        reply = { type: "error", code, message: err.message.split("\n")[0] ?? code };
      } else {
        this.logger.error({ err, type: request.type, node: request.node }, "link.handler_failed");
        reply = { type: "error", code: "E_INTERNAL", message: "internal error" };
      }
    }
    // In the request's version: a version 1 node refuses any other.
    await this.reply(routingId, { ...reply, v: request.v, id: request.id } as MasterReply);
  }

  private async refuse(routingId: Buffer, err: unknown, version: ProtocolVersion): Promise<void> {
    const code = (err as { code?: unknown }).code;
    const reason = REJECT_REASONS[String(code)] ?? "decode";
    this.options.observer?.rejected?.(reason);
    const message = err instanceof Error ? err.message : String(err);
    this.warnings.warn(`message.rejected.${reason}`, { reason, error: message });
    const id = hasCode<MessageInvalidError | MessageAuthError>(
      err,
      "E_PROTOCOL_INVALID",
      "E_PROTOCOL_AUTH",
    )
      ? err.id
      : undefined;
    if (id === undefined) return;
    await this.reply(routingId, {
      v: version,
      id,
      type: "error",
      code: String(code),
      message,
    });
  }

  private async reply(routingId: Buffer, reply: MasterReply): Promise<void> {
    try {
      await this.queue.send([routingId, encodeMessage(reply)]);
    } catch (err) {
      if (!this.router.closed) this.logger.warn({ err }, "link.reply_failed");
    }
  }

  private requestLinkKey(request: NodeRequest): Buffer {
    try {
      return this.linkKeyOf(request.node);
    } catch (err) {
      throw new MessageInvalidError(`node: ${(err as Error).message}`, request.id);
    }
  }

  private linkKeyOf(nodeKey: string): Buffer {
    let key = this.linkKeys.get(nodeKey);
    if (!key) {
      key = deriveLinkKey(this.options.keyPair.secretKey, nodeKey, {
        node: nodeKey,
        master: this.options.keyPair.publicKey,
      });
      // Bounded: keys named by messages that then fail authentication must not pile up.
      if (this.linkKeys.size >= 100_000) this.linkKeys.clear();
      this.linkKeys.set(nodeKey, key);
    }
    return key;
  }
}
