import { readFileSync } from "node:fs";
import {
  AttributeIds,
  type ClientMonitoredItemBase,
  type ClientSession,
  type ClientSubscription,
  DataChangeFilter,
  DataChangeTrigger,
  type DataValue,
  DeadbandType,
  MessageSecurityMode,
  type NodeId,
  OPCUAClient,
  resolveNodeId,
  SecurityPolicy,
  StatusCodes,
  TimestampsToReturn,
  type UserIdentityInfo,
  UserTokenType,
} from "node-opcua";
import { parseDuration } from "../../common/index.js";
import type { OpcuaDeviceConfig, OpcuaTag } from "../config.js";
import { CollectorConfigError, OpcuaConnectionError } from "../errors.js";
import type { InputContext } from "../input.js";
import type { TelemetryRecord } from "../record.js";
import { readingOf } from "../sample-quality.js";
import {
  adviseDeviceConfig,
  type ConnectTarget,
  connectClient,
  sessionError,
} from "./connect-error.js";
import { sampleOf, sourceStatus } from "./data-value.js";
import { keepAliveCount } from "./hang-bound.js";
import { HangWatch } from "./hang-watch.js";
import { type MonitorBatch, monitorBatches } from "./monitored-batches.js";
import { type CollectorCertificates, clientCertificateManager, ownCertificateFile } from "./pki.js";

const TOO_MANY = StatusCodes.BadTooManyMonitoredItems.value;
/** Requested session timeout: how long the server keeps a session whose client went away. */
const SESSION_TIMEOUT_MS = 60_000;

/** A session whose connection broke, with what it had created, kept to be taken over. */
interface BrokenSession {
  session: ClientSession;
  subscriptions: ClientSubscription[];
  monitoredCount: number;
}

/**
 * node-opcua's ClientSession implementation: its publish engine (not in the public
 * interface) is held while the session has no connection and released once it has one.
 */
interface WithPublishEngine {
  getPublishEngine(): { suspend(suspended: boolean): void };
}

/**
 * The node-opcua side of an OpcuaInput, loaded only when a config has an OPC-UA
 * device. One OPC-UA server: a session, subscriptions and one monitored item per tag.
 * Items are created in batches; when the server caps a subscription
 * (BadTooManyMonitoredItems) the rest go to a new subscription. An item the server refuses (unknown node id) gets a
 * bad-quality record of its own while the others flow.
 *
 * A lost connection, or a server silent past the hang bound (HangWatch), is reported to
 * the wrapper, which probes the endpoint and starts the input again: node-opcua's own
 * reconnection is off so that recovery has one owner. A start after a loss first offers
 * the broken session to the server on the new connection (ActivateSession): when the
 * server kept it (a hang, a broken link), its subscriptions and items go on as they
 * were; when it did not (a restart), a new session creates them again.
 */
export class OpcuaSession {
  private readonly device: string;
  private readonly intervalMs: number;
  private readonly tags: readonly OpcuaTag[];
  private readonly nodeIds: Map<string, NodeId>;
  private client: OPCUAClient | undefined;
  private certificates: CollectorCertificates | undefined;
  private session: ClientSession | undefined;
  private subscriptions: ClientSubscription[] = [];
  private broken: BrokenSession | undefined;
  private hangWatch: HangWatch | undefined;
  /** The context of the current start: items created by an earlier one report to it. */
  private ctx: InputContext | undefined;
  /** Monitored items that are alive, for stats. */
  monitoredCount = 0;

  constructor(
    private readonly config: OpcuaDeviceConfig,
    private readonly dataDir: string,
    private readonly hangMs: number,
  ) {
    this.device = config.name;
    this.intervalMs = parseDuration(config.interval);
    this.tags = config.tags;
    this.nodeIds = new Map(
      config.tags.map((tag, i) => {
        try {
          return [tag.name, resolveNodeId(tag.node)];
        } catch {
          throw new CollectorConfigError(
            `${config.name}.tags[${i}].node`,
            `'${tag.node}' is not a node id`,
          );
        }
      }),
    );
  }

  async start(ctx: InputContext): Promise<void> {
    this.ctx = ctx;
    const { endpoint, security } = this.config.opcua;
    const timeoutMs = parseDuration(this.config.opcua.timeout);
    // A fresh manager per start re-reads trusted/ and rejected/, so a certificate the
    // operator trusted while the input was backing off is honoured on the next attempt.
    this.certificates = await clientCertificateManager(this.dataDir);
    const client = OPCUAClient.create({
      applicationName: "outpost-collector",
      clientCertificateManager: this.certificates,
      certificateFile: ownCertificateFile(this.dataDir),
      securityMode: MessageSecurityMode[security.mode],
      securityPolicy:
        security.mode === "None"
          ? SecurityPolicy.None
          : SecurityPolicy[security.policy ?? "Basic256Sha256"],
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
      transportTimeout: timeoutMs,
      requestedSessionTimeout: SESSION_TIMEOUT_MS,
      // The subscriptions' publish requests keep the session alive and HangWatch notices
      // a silent server, so node-opcua's keep-alive reads would add nothing.
      keepSessionAlive: false,
      // Disconnecting after a loss leaves the session to the server, for the next start.
      keepPendingSessionsOnDisconnect: true,
    });
    this.client = client;
    let lost: OpcuaConnectionError | undefined;
    let running = false;
    const fail = (reason: string, since?: number) => {
      if (lost || this.client !== client) return;
      lost = new OpcuaConnectionError(endpoint, reason);
      // A loss during the start fails the start (below, if no request failed first).
      if (!running) return;
      this.detachSession();
      ctx.fail(lost, since);
    };
    await connectClient(client, this.connectTarget());
    client.on("connection_lost", () => fail("connection lost"));
    client.on("close", () => fail("connection closed"));
    client.on("timed_out_request", (request) =>
      fail(`no answer to a ${request.constructor.name} within its timeout`),
    );
    const session = (await this.takeOver(client, ctx)) ?? (await this.newSession(client, ctx));
    session.on("session_closed", () => fail("session closed by the server"));
    this.hangWatch = new HangWatch((since) =>
      fail(
        `no publish response or keep-alive for ${Date.now() - since} ms: the server hangs`,
        since,
      ),
    );
    for (const subscription of this.subscriptions) {
      this.hangWatch.watch(subscription, this.hangBound(subscription, ctx));
    }
    if (lost) throw lost;
    running = true;
  }

  /**
   * The configured bound, unless the server revised the keep-alive period past half of
   * it: a quiet subscription would then be taken for a hung one.
   */
  private hangBound(subscription: ClientSubscription, ctx: InputContext): number {
    const keepAliveMs = subscription.publishingInterval * subscription.maxKeepAliveCount;
    if (2 * keepAliveMs <= this.hangMs) return this.hangMs;
    ctx.logger.warn({ keepAliveMs, hangTimeoutMs: this.hangMs }, "opcua.hang_bound_raised");
    return 2 * keepAliveMs;
  }

  /**
   * The broken session on the new connection, if the server still has it: its
   * subscriptions publish again from where they were.
   */
  private async takeOver(
    client: OPCUAClient,
    ctx: InputContext,
  ): Promise<ClientSession | undefined> {
    const broken = this.broken;
    this.broken = undefined;
    if (!broken) return undefined;
    try {
      await client.reactivateSession(broken.session);
    } catch (err) {
      ctx.logger.info({ err: (err as Error).message.split("\n")[0] }, "opcua.session_gone");
      return undefined;
    }
    this.session = broken.session;
    this.subscriptions = broken.subscriptions;
    this.monitoredCount = broken.monitoredCount;
    (broken.session as unknown as WithPublishEngine).getPublishEngine().suspend(false);
    ctx.logger.info({ subscriptions: this.subscriptions.length }, "opcua.session_resumed");
    return broken.session;
  }

  private async newSession(client: OPCUAClient, ctx: InputContext): Promise<ClientSession> {
    this.subscriptions = [];
    this.monitoredCount = 0;
    try {
      this.session = await client.createSession(this.identity());
    } catch (err) {
      throw await sessionError(this.connectTarget(), err as Error);
    }
    const batches = monitorBatches(this.tags, this.intervalMs, this.config.opcua.batchSize);
    for (const batch of batches) await this.monitor(batch, ctx);
    ctx.logger.info(
      { subscriptions: this.subscriptions.length, items: this.monitoredCount },
      "opcua.subscribed",
    );
    return this.session;
  }

  /**
   * Keeps the session of a connection that broke for the next start to take over, its
   * publishing held meanwhile. A session that never got a publish response since it was
   * (re)activated is dropped: the server may have lost its subscriptions.
   */
  private detachSession(): void {
    const session = this.session;
    const heard = this.hangWatch?.heard ?? false;
    this.hangWatch?.stop();
    this.hangWatch = undefined;
    this.session = undefined;
    if (!session) return;
    (session as unknown as WithPublishEngine).getPublishEngine().suspend(true);
    if (heard) {
      this.broken = {
        session,
        subscriptions: this.subscriptions,
        monitoredCount: this.monitoredCount,
      };
    }
    this.subscriptions = [];
    this.monitoredCount = 0;
  }

  /** This device's connection, for errors that say which setting to change. */
  private connectTarget(): ConnectTarget {
    const { endpoint, security, timeout } = this.config.opcua;
    return {
      endpoint,
      dataDir: this.dataDir,
      security:
        security.mode === "None"
          ? { mode: "None" }
          : { mode: security.mode, policy: security.policy ?? "Basic256Sha256" },
      transportTimeoutMs: parseDuration(timeout),
      certificates: this.certificates as CollectorCertificates,
      ...adviseDeviceConfig(this.device),
    };
  }

  get subscriptionCount(): number {
    return this.subscriptions.length;
  }

  /**
   * Closes the session (deleting its subscriptions on the server) unless its connection
   * broke, then the connection. A broken session stays kept for the next start.
   */
  async stop(): Promise<void> {
    const client = this.client;
    const session = this.session;
    this.client = undefined;
    this.session = undefined;
    this.subscriptions = [];
    this.monitoredCount = 0;
    this.hangWatch?.stop();
    this.hangWatch = undefined;
    const certificates = this.certificates;
    this.certificates = undefined;
    if (client) {
      client.removeAllListeners();
      // A dead server must not hold the stop: closing gives up after a short wait.
      await Promise.race([
        (async () => {
          await session?.close(true).catch(() => {});
          await client.disconnect().catch(() => {});
        })(),
        new Promise((r) => setTimeout(r, 2000).unref()),
      ]);
    }
    await certificates?.dispose();
  }

  private identity(): UserIdentityInfo {
    const s = this.config.opcua.security;
    if (s.user) {
      return { type: UserTokenType.UserName, userName: s.user, password: s.password ?? "" };
    }
    if (s.certificate && s.privateKey) {
      return {
        type: UserTokenType.Certificate,
        certificateData: pemToDer(readFileSync(s.certificate, "utf8")),
        privateKey: readFileSync(s.privateKey, "utf8"),
      } as UserIdentityInfo;
    }
    return { type: UserTokenType.Anonymous };
  }

  private async newSubscription(): Promise<ClientSubscription> {
    const session = this.session as ClientSession;
    const keepAlive = keepAliveCount(this.hangMs, this.intervalMs);
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: this.intervalMs,
      // The server keeps the subscription as long as the session, so a session taken over
      // after a break still has it.
      requestedLifetimeCount: Math.max(
        3 * keepAlive,
        Math.ceil(SESSION_TIMEOUT_MS / this.intervalMs),
      ),
      requestedMaxKeepAliveCount: keepAlive,
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 1,
    });
    this.subscriptions.push(subscription);
    return subscription;
  }

  /** Creates a batch's items, moving those refused for a full subscription to a new one. */
  private async monitor(batch: MonitorBatch, ctx: InputContext): Promise<void> {
    let pending = batch.tags;
    let subscription = this.subscriptions.at(-1) ?? (await this.newSubscription());
    let fresh = false;
    while (pending.length > 0) {
      const group = await subscription.monitorItems(
        pending.map((tag) => ({
          nodeId: this.nodeIds.get(tag.name) as NodeId,
          attributeId: AttributeIds.Value,
        })),
        {
          samplingInterval: batch.samplingIntervalMs,
          queueSize: batch.queueSize,
          discardOldest: true,
          filter: filterOf(batch),
        },
        TimestampsToReturn.Both,
      );
      const refused: OpcuaTag[] = [];
      const bad: TelemetryRecord[] = [];
      group.monitoredItems.forEach((item, i) => {
        const tag = pending[i] as OpcuaTag;
        const status = (item as ClientMonitoredItemBase).statusCode;
        if (status.value === TOO_MANY) refused.push(tag);
        else if (status.isNotGood()) {
          bad.push({ ...this.record(tag, Date.now(), null, status.name), status: status.name });
        } else this.monitoredCount++;
      });
      const tagsOfGroup = pending;
      group.on("changed", (_item: ClientMonitoredItemBase, dv: DataValue, index: number) => {
        const tag = tagsOfGroup[index];
        if (tag) this.ctx?.emit([this.fromDataValue(tag, dv)]);
      });
      if (bad.length > 0) {
        ctx.logger.warn({ refused: bad.length, first: bad[0]?.quality }, "opcua.items_refused");
        ctx.emit(bad);
      }
      if (refused.length === pending.length && fresh) {
        throw new OpcuaConnectionError(
          this.config.opcua.endpoint,
          "a new subscription accepts no monitored item (BadTooManyMonitoredItems)",
        );
      }
      if (refused.length > 0) {
        ctx.logger.info(
          { moved: refused.length, accepted: pending.length - refused.length },
          "opcua.subscription_full",
        );
        subscription = await this.newSubscription();
        fresh = true;
      }
      pending = refused;
    }
  }

  private fromDataValue(tag: OpcuaTag, dv: DataValue): TelemetryRecord {
    const ts = (dv.sourceTimestamp ?? dv.serverTimestamp ?? new Date()).getTime();
    const { value, quality, status } = readingOf(
      sampleOf(dv),
      sourceStatus(dv.statusCode),
      tag.maxArrayLength,
    );
    const r = this.record(tag, ts, value, quality);
    if (status !== undefined) r.status = status;
    if (dv.serverTimestamp) r.serverTs = dv.serverTimestamp.getTime();
    return r;
  }

  private record(
    tag: OpcuaTag,
    ts: number,
    value: TelemetryRecord["value"],
    quality: string,
  ): TelemetryRecord {
    const r: TelemetryRecord = { device: this.device, tag: tag.name, ts, value, quality };
    if (tag.unit !== undefined) r.unit = tag.unit;
    return r;
  }
}

function filterOf(batch: MonitorBatch): DataChangeFilter | undefined {
  if (!batch.deadband) return undefined;
  const absolute = "absolute" in batch.deadband;
  return new DataChangeFilter({
    trigger: DataChangeTrigger.StatusValue,
    deadbandType: absolute ? DeadbandType.Absolute : DeadbandType.Percent,
    deadbandValue: absolute
      ? (batch.deadband as { absolute: number }).absolute
      : (batch.deadband as { percent: number }).percent,
  });
}

function pemToDer(pem: string): Buffer {
  const body = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
  return Buffer.from(body, "base64");
}
