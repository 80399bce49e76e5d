import {
  JetStreamApiError,
  type JetStreamClient,
  jetstream,
  jetstreamManager,
  type PubAck,
  StorageType,
} from "@nats-io/jetstream";
import { connect, type NatsConnection, nanos, nkeyAuthenticator } from "@nats-io/transport-node";
import type { Logger } from "../../common/index.js";
import { NatsUnavailableError } from "../errors.js";
import type { OutboxMessage } from "../store.js";
import type { NatsOptions } from "./nats-options.js";
import { messageId, STREAM_SUBJECTS, TELEMETRY_STREAM, telemetrySubject } from "./subjects.js";

/** JetStream's API error code for a stream that does not exist. */
const STREAM_NOT_FOUND = 10059;

/** How long a publish waits for JetStream's PubAck before it counts as failed. */
export const PUBLISH_TIMEOUT_MS = 10_000;

/** A NATS connection for the master's publisher: made on demand, the stream ensured once. */
export interface NatsConnectionOptions extends NatsOptions {
  /** The client's name in the server's connection list. */
  name: string;
}

/** A message too big for the server's `max_payload`: it can never be published. */
export class MessageTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly maxPayload: number,
  ) {
    super(`message of ${bytes} bytes is over the server's max_payload (${maxPayload})`);
  }
}

/**
 * Connects to NATS (when a publish needs it, so a master starts and ingests while NATS is
 * down), then lets the client reconnect by itself, for ever, after an outage. Makes the
 * telemetry stream or brings its duplicate window and subjects to what is asked, keeping
 * whatever else an operator set (limits, replicas).
 */
export class JetStreamLink {
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private connecting: Promise<NatsConnection> | undefined;
  /** Whether the stream is known to be as asked since the last failure. */
  private streamReady = false;
  /** Whether the client is connected now (publishing while it reconnects would pile up). */
  private connected = false;
  private closed = false;

  constructor(
    private readonly options: NatsConnectionOptions,
    private readonly dedupeWindowMs: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Connected with the stream as asked; NatsUnavailableError when the servers cannot be
   * reached, refuse the login or have no JetStream.
   */
  async ready(): Promise<void> {
    const nc = await this.connection();
    if (!this.connected) throw new NatsUnavailableError(this.options.servers, "reconnecting");
    if (this.streamReady) return;
    try {
      await this.ensureStream(nc);
    } catch (err) {
      throw new NatsUnavailableError(this.options.servers, reasonOf(err));
    }
    this.streamReady = true;
  }

  /** Publishes one outbox message; resolves with JetStream's PubAck. */
  async publish(m: OutboxMessage): Promise<PubAck> {
    const nc = await this.connection();
    const maxPayload = nc.info?.max_payload ?? Number.POSITIVE_INFINITY;
    if (m.payload.byteLength > maxPayload)
      throw new MessageTooLargeError(m.payload.byteLength, maxPayload);
    try {
      return await (this.js as JetStreamClient).publish(
        telemetrySubject(m.node, m.stream),
        m.payload,
        {
          msgID: messageId(m.node, m.chunkId, m.part, m.parts),
          timeout: PUBLISH_TIMEOUT_MS,
        },
      );
    } catch (err) {
      // The stream may be gone (deleted, a server started afresh): ensure it again.
      this.streamReady = false;
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const nc = this.nc ?? (await this.connecting?.catch(() => undefined));
    await nc?.close();
  }

  private async connection(): Promise<NatsConnection> {
    if (this.closed) throw new NatsUnavailableError(this.options.servers, "closed");
    if (this.nc && !this.nc.isClosed()) return this.nc;
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<NatsConnection> {
    const nc = await connectNats(this.options, this.options.name);
    if (this.closed) {
      await nc.close();
      throw new NatsUnavailableError(this.options.servers, "closed");
    }
    this.nc = nc;
    this.js = jetstream(nc, { timeout: PUBLISH_TIMEOUT_MS });
    this.connected = true;
    this.streamReady = false;
    void this.watch(nc);
    return nc;
  }

  /** Follows the client's reconnects, for `ready()` and the log. */
  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") {
        this.connected = false;
        this.logger.warn({ server: s.server }, "fanout.nats_disconnected");
      } else if (s.type === "reconnect") {
        this.connected = true;
        this.logger.info({ server: s.server }, "fanout.nats_reconnected");
      }
    }
  }

  private async ensureStream(nc: NatsConnection): Promise<void> {
    const jsm = await jetstreamManager(nc, { timeout: PUBLISH_TIMEOUT_MS });
    let config: Awaited<ReturnType<typeof jsm.streams.info>>["config"] | undefined;
    try {
      config = (await jsm.streams.info(TELEMETRY_STREAM)).config;
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === STREAM_NOT_FOUND)) throw err;
    }
    let window = nanos(this.dedupeWindowMs);
    if (!config) {
      await jsm.streams.add({
        name: TELEMETRY_STREAM,
        subjects: [STREAM_SUBJECTS],
        storage: StorageType.File,
        duplicate_window: window,
      });
      this.logger.info(
        { stream: TELEMETRY_STREAM, dedupeWindowMs: this.dedupeWindowMs },
        "fanout.stream_created",
      );
      return;
    }
    // JetStream refuses a duplicate window longer than the messages are kept.
    if (config.max_age > 0 && config.max_age < window) {
      this.logger.warn(
        {
          stream: TELEMETRY_STREAM,
          maxAgeMs: config.max_age / 1e6,
          dedupeWindowMs: this.dedupeWindowMs,
        },
        "fanout.dedupe_window_capped",
      );
      window = config.max_age;
    }
    if (config.duplicate_window === window && config.subjects.includes(STREAM_SUBJECTS)) return;
    await jsm.streams.update(TELEMETRY_STREAM, {
      duplicate_window: window,
      subjects: [...new Set([...config.subjects, STREAM_SUBJECTS])],
    });
    this.logger.info(
      { stream: TELEMETRY_STREAM, dedupeWindowMs: window / 1e6 },
      "fanout.stream_updated",
    );
  }
}

/**
 * A connection to the first of `options.servers` that answers; NatsUnavailableError when
 * none does or the login is refused. Once connected, the client reconnects by itself
 * however long NATS is away.
 */
export async function connectNats(options: NatsOptions, name: string): Promise<NatsConnection> {
  try {
    return await connect({
      servers: options.servers,
      name,
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(options.nkeySeed !== undefined
        ? { authenticator: nkeyAuthenticator(new TextEncoder().encode(options.nkeySeed)) }
        : {}),
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
      timeout: 5_000,
    });
  } catch (err) {
    throw new NatsUnavailableError(options.servers, reasonOf(err));
  }
}

/** An error's text for a log line or a NatsUnavailableError. */
export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
