import type { Logger } from "../common/index.js";
import { ProtocolServer } from "../protocol/index.js";
import { ControlHandler } from "./control.js";
import { openDataDir } from "./data-dir.js";
import { InvalidRequestError } from "./errors.js";
import { JetStreamLink } from "./fanout/jetstream-link.js";
import { type NatsLogin, natsLoginOf, parseNatsServers } from "./fanout/nats-options.js";
import { OutboxPublisher, type PublisherOptions } from "./fanout/outbox-publisher.js";
import { HttpApi } from "./http-api.js";
import { TelemetryIngest } from "./ingest.js";
import { MasterMetrics } from "./metrics.js";
import { HOLD_WINDOW_MS, NodeWaker } from "./node-wake.js";
import { openStore, parseStoreOption } from "./open-store.js";
import {
  deletesAnything,
  KEEP_EVERYTHING,
  type RetentionPolicy,
} from "./readings/retention-policy.js";
import { RetentionJob } from "./retention-job.js";
import { statusSnapshot, type TelemetrySource } from "./status/status-snapshot.js";
import { TelemetryView } from "./status/telemetry-view.js";
import type { MasterStore } from "./store.js";

export const DEFAULT_LISTEN = "tcp://127.0.0.1:5660";
export const DEFAULT_HTTP = "127.0.0.1:5661";
/**
 * JetStream's duplicate window for the telemetry stream: how long after a message was
 * stored a resend of it is still dropped (master/README.md, NATS fan-out).
 */
export const DEFAULT_DEDUPE_WINDOW_MS = 3_600_000;
/** The shortest duplicate window taken: longer than a publish is retried after its last try. */
export const MIN_DEDUPE_WINDOW_MS = 120_000;

/** The NATS JetStream fan-out (`--nats`). */
export interface MasterNatsOptions extends NatsLogin {
  /** `nats://HOST:PORT`, comma-separated for a cluster; no credentials in it. */
  url: string;
  /** The stream's duplicate window (default DEFAULT_DEDUPE_WINDOW_MS). */
  dedupeWindowMs?: number;
  /** The publisher's batch, lease and waits (tests shorten them). */
  publisher?: PublisherOptions;
}

export interface MasterOptions {
  /** Data directory: keys, admin token, database (see data-dir.ts). */
  data: string;
  /** ZeroMQ endpoint for nodes (`tcp://HOST:PORT`, `:*` for an ephemeral port). */
  listen?: string;
  /** HTTP API address (`HOST:PORT`, port 0 for an ephemeral one). */
  http?: string;
  /** `sqlite` (default: `master.db` in the data directory) or `postgres://USER@HOST/DB`. */
  store?: string;
  /**
   * What is kept and for how long (`--retention`, `--keep-chunks`; see
   * readings/retention-policy.ts); default: everything, forever.
   */
  retention?: RetentionPolicy;
  /**
   * ZMTP heartbeat toward nodes, seconds (default 5): a link silent for three of them is
   * dropped. A large fleet sets it longer: every ping costs the master a CURVE message.
   */
  heartbeatSeconds?: number;
  /**
   * Publish every decoded chunk's readings to NATS JetStream through the store's outbox;
   * without it no outbox row is written.
   */
  nats?: MasterNatsOptions;
  logger: Logger;
}

export interface RunningMaster {
  publicKey: string;
  /** The node endpoint actually bound. */
  endpoint: string;
  /** The HTTP API's base URL actually bound. */
  url: string;
  store: MasterStore;
  metrics: MasterMetrics;
  /** Applies the retention policy every minute (when it deletes anything); `run()` runs it now. */
  retention: RetentionJob;
  close(): Promise<void>;
}

/**
 * Starts a master: opens (creating) the data directory and store, then the CURVE link
 * for nodes and the HTTP API. `close()` stops taking requests, commits what was taken
 * and closes the store; a master started again on the same directory has all its state.
 */
export async function startMaster(options: MasterOptions): Promise<RunningMaster> {
  const { host, port } = parseHttpAddress(options.http ?? DEFAULT_HTTP);
  const storeChoice = parseStoreOption(options.store);
  const natsServers = options.nats ? parseNatsServers(options.nats.url) : undefined;
  const dedupeWindowMs = options.nats?.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
  if (dedupeWindowMs < MIN_DEDUPE_WINDOW_MS)
    throw new InvalidRequestError(
      `--nats-dedupe-window: must be at least 2m (a publish is retried up to 30 s after its last try), got ${dedupeWindowMs} ms`,
    );
  const dataDir = openDataDir(options.data);
  const logger = options.logger.child({ component: "master" });
  const policy = options.retention ?? KEEP_EVERYTHING;
  const store = await openStore(storeChoice, dataDir.databasePath, {
    retention: policy,
    outbox: natsServers !== undefined,
  });
  const metrics = new MasterMetrics(async () => (await store.listNodes()).length);
  // The one master of a SQLite store keeps presence and the status telemetry in memory;
  // masters sharing a store read both from it, so every one of them answers the same.
  const shared = store.shared;
  const telemetry: TelemetrySource = shared
    ? { status: (now) => shared.telemetryStatus(now) }
    : new TelemetryView();
  const view = telemetry instanceof TelemetryView ? telemetry : undefined;
  const publisher = !natsServers
    ? undefined
    : new OutboxPublisher(
        store,
        new JetStreamLink(
          { servers: natsServers, ...natsLoginOf(options.nats ?? {}), name: "outpost-master" },
          dedupeWindowMs,
          logger,
        ),
        metrics,
        logger,
        options.nats?.publisher,
      );
  if (publisher) metrics.outboxReader = () => store.outboxState();
  const ingest = new TelemetryIngest(store, (batch, results, seconds) => {
    metrics.commitSeconds.observe(seconds);
    const now = Date.now();
    results.forEach((r, i) => {
      metrics.chunks.inc({ result: r.duplicate ? "duplicate" : "stored" });
      const chunk = batch[i];
      if (r.duplicate || !chunk) return;
      metrics.records.inc(chunk.records);
      view?.observe(chunk, now);
    });
    if (results.some((r) => !r.duplicate)) publisher?.wake();
  });
  const control = new ControlHandler(
    store,
    ingest,
    metrics,
    logger,
    view && ((node, reports) => view.observeReports(node, reports)),
  );
  const lastSeen = shared ? () => undefined : (node: string) => control.lastSeen(node);
  const retention = new RetentionJob(store, metrics, logger);
  if (deletesAnything(policy)) retention.start();
  const closers: (() => Promise<void>)[] = [
    () => store.close(),
    () => control.close(),
    () => retention.close(),
  ];
  if (publisher) {
    publisher.start();
    closers.push(() => publisher.close());
  }
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse()) await close();
  };
  try {
    const link = await ProtocolServer.listen({
      endpoint: options.listen ?? DEFAULT_LISTEN,
      keyPair: dataDir.keyPair,
      authorize: (key) => control.isKnownKey(key),
      handle: (request) => control.handle(request),
      logger,
      ...(options.heartbeatSeconds
        ? {
            heartbeat: {
              intervalMs: options.heartbeatSeconds * 1000,
              timeoutMs: options.heartbeatSeconds * 3000,
            },
          }
        : {}),
      observer: {
        rejected: (reason) => metrics.rejectedBy(reason),
        denied: () => metrics.denied.inc(),
      },
    });
    closers.push(async () => {
      await link.close();
      await ingest.drain();
    });
    // A change to a node's desired state, made through this master or (on PostgreSQL)
    // any other, wakes the node if this master holds its link.
    const waker = new NodeWaker(link, (node) => control.keyOf(node), metrics, logger);
    const stopWaking = store.onNodeChanged((change) => waker.changed(change));
    metrics.countLinksWith(() => link.heldKeys(HOLD_WINDOW_MS).length);
    closers.push(async () => {
      stopWaking();
      waker.close();
    });
    const api = new HttpApi({
      store,
      adminToken: dataDir.adminToken,
      metrics,
      logger,
      lastSeen,
      linkBound: () => link.bound,
      status: () => statusSnapshot(store, telemetry, lastSeen, Date.now(), retention.last),
    });
    const address = await api.listen(host, port);
    closers.push(() => api.close());
    const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
    logger.info(
      { endpoint: link.endpoint, url, publicKey: dataDir.keyPair.publicKey },
      "master.started",
    );
    let closing: Promise<void> | undefined;
    return {
      publicKey: dataDir.keyPair.publicKey,
      endpoint: link.endpoint,
      url,
      store,
      metrics,
      retention,
      close: () => {
        closing ??= closeAll().then(() => logger.info({}, "master.stopped"));
        return closing;
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** `HOST:PORT` (IPv6 as `[::1]:PORT`) into its parts; a bad one is E_MASTER_INVALID. */
export function parseHttpAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65535) {
    throw new InvalidRequestError(
      `--http: expected HOST:PORT (e.g. 127.0.0.1:5661), got '${text}'`,
    );
  }
  return { host: m[1] ?? m[2] ?? "", port };
}
