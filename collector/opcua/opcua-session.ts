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
  type OPCUACertificateManager,
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
import { Quality } from "../quality.js";
import type { TelemetryRecord } from "../record.js";
import { connectError } from "./connect-error.js";
import { qualityOfStatus, tagValueOf } from "./data-value.js";
import { type MonitorBatch, monitorBatches } from "./monitored-batches.js";
import { clientCertificateManager } from "./pki.js";

const TOO_MANY = StatusCodes.BadTooManyMonitoredItems.value;

/**
 * The node-opcua side of an OpcuaInput, loaded only when a config has an OPC-UA
 * device. One OPC-UA server: a session, subscriptions and one monitored item per tag.
 * Items are created in batches; when the server caps a subscription
 * (BadTooManyMonitoredItems) the rest go to a new subscription. An item the server refuses (unknown node id) gets a
 * bad-quality record of its own while the others flow. A lost connection is reported
 * to the wrapper, which restarts the input (new session, items created again) with
 * backoff; node-opcua's own reconnection is off so that recovery has one owner.
 */
export class OpcuaSession {
  private readonly device: string;
  private readonly intervalMs: number;
  private readonly tags: readonly OpcuaTag[];
  private readonly nodeIds: Map<string, NodeId>;
  private client: OPCUAClient | undefined;
  private certificates: OPCUACertificateManager | undefined;
  private session: ClientSession | undefined;
  private subscriptions: ClientSubscription[] = [];
  /** Monitored items that are alive, for stats. */
  monitoredCount = 0;

  constructor(
    private readonly config: OpcuaDeviceConfig,
    private readonly dataDir: string,
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
    const { endpoint, security } = this.config.opcua;
    const timeoutMs = parseDuration(this.config.opcua.timeout);
    // A fresh manager per start re-reads trusted/ and rejected/, so a certificate the
    // operator trusted while the input was backing off is honoured on the next attempt.
    this.certificates = await clientCertificateManager(this.dataDir);
    const client = OPCUAClient.create({
      applicationName: "outpost-collector",
      clientCertificateManager: this.certificates,
      securityMode: MessageSecurityMode[security.mode],
      securityPolicy:
        security.mode === "None"
          ? SecurityPolicy.None
          : SecurityPolicy[security.policy ?? "Basic256Sha256"],
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
      transportTimeout: timeoutMs,
      requestedSessionTimeout: 60_000,
      keepSessionAlive: true,
    });
    this.client = client;
    let failed = false;
    const fail = (reason: string) => {
      if (failed || this.client !== client) return;
      failed = true;
      ctx.fail(new OpcuaConnectionError(endpoint, reason));
    };
    try {
      await client.connect(endpoint);
    } catch (err) {
      throw connectError(endpoint, this.dataDir, err as Error);
    }
    client.on("connection_lost", () => fail("connection lost"));
    client.on("close", () => fail("connection closed"));
    try {
      this.session = await client.createSession(this.identity());
    } catch (err) {
      const reason = (err as Error).message.split("\n")[0];
      throw new OpcuaConnectionError(endpoint, `session refused (${reason})`);
    }
    this.session.on("session_closed", () => fail("session closed by the server"));
    this.session.on("keepalive_failure", () => fail("session keep-alive failed"));
    const batches = monitorBatches(this.tags, this.intervalMs, this.config.opcua.batchSize);
    for (const batch of batches) await this.monitor(batch, ctx);
    ctx.logger.info(
      { subscriptions: this.subscriptions.length, items: this.monitoredCount },
      "opcua.subscribed",
    );
  }

  get subscriptionCount(): number {
    return this.subscriptions.length;
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.session = undefined;
    this.subscriptions = [];
    this.monitoredCount = 0;
    const certificates = this.certificates;
    this.certificates = undefined;
    if (client) {
      client.removeAllListeners();
      // A dead server must not hold the stop: disconnecting gives up after a short wait.
      await Promise.race([
        client.disconnect().catch(() => {}),
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
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: this.intervalMs,
      requestedLifetimeCount: 600,
      requestedMaxKeepAliveCount: 20,
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
        else if (status.isNotGood()) bad.push(this.record(tag, Date.now(), null, status.name));
        else this.monitoredCount++;
      });
      const tagsOfGroup = pending;
      group.on("changed", (_item: ClientMonitoredItemBase, dv: DataValue, index: number) => {
        const tag = tagsOfGroup[index];
        if (tag) ctx.emit([this.fromDataValue(tag, dv)]);
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
    let quality = qualityOfStatus(dv.statusCode);
    let value = tagValueOf(dv);
    if (value === undefined) {
      value = null;
      quality = Quality.badType;
    }
    const r = this.record(tag, ts, quality === Quality.good ? value : null, quality);
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
