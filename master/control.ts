import type { Logger } from "../common/index.js";
import {
  type InstanceReport,
  type NodeRequest,
  type ReplyBody,
  validateInstanceReports,
} from "../protocol/index.js";
import { placeInstance } from "./allocation.js";
import { UnknownNodeError } from "./errors.js";
import type { TelemetryIngest } from "./ingest.js";
import type { MasterMetrics } from "./metrics.js";
import { Orchestrator } from "./orchestration.js";
import { type InstanceRecord, isPlaced, type MasterStore } from "./store.js";

/**
 * How often the nodes heard from are written to the store (`touchNodes`): how stale a
 * node's `lastSeen` may be on a master other than the one holding its link.
 */
export const LAST_SEEN_FLUSH_MS = 5_000;

/**
 * Answers node requests: hello (registration facts), sync (desired state), report
 * (status, promises, connection parameters, usage, requested instances), telemetry chunks,
 * loss events and record schemas (a refused schema is answered E_MASTER_SCHEMA).
 * Requests reach it validated and authenticated by the protocol server.
 */
export class ControlHandler {
  private readonly names = new Map<string, string>();
  /** Node name → key, of the nodes that spoke to this master (the links it may hold). */
  private readonly keys = new Map<string, string>();
  private readonly seen = new Map<string, number>();
  /** When each node was last heard from, unbatched (the status page's "online"). */
  private readonly latest = new Map<string, number>();
  private readonly flushTimer: NodeJS.Timeout;
  private readonly orchestrator: Orchestrator;

  constructor(
    private readonly store: MasterStore,
    private readonly ingest: TelemetryIngest,
    private readonly metrics: MasterMetrics,
    private readonly logger: Logger,
    /** Told of every report the store took (the status page's buffer backlogs). */
    private readonly onReport?: (node: string, reports: InstanceReport[], at: number) => void,
  ) {
    this.orchestrator = new Orchestrator(store, logger);
    // Last-seen times go to the store in batches, not once per chunk.
    this.flushTimer = setInterval(() => void this.flushSeen(), LAST_SEEN_FLUSH_MS);
    this.flushTimer.unref();
  }

  /** Whether a node key may connect (ZAP). */
  async isKnownKey(publicKey: string): Promise<boolean> {
    return (await this.nodeName(publicKey)) !== undefined;
  }

  async handle(request: NodeRequest): Promise<ReplyBody> {
    const name = await this.nodeName(request.node);
    if (name === undefined) throw new UnknownNodeError(request.node);
    const at = Date.now();
    this.seen.set(name, at);
    this.latest.set(name, at);
    this.metrics.messages.inc({ type: request.type });
    switch (request.type) {
      case "hello": {
        const { agentVersion, arch, board, cpus, partitions, isolatedCores } = request;
        await this.store.registerNode(
          name,
          { agentVersion, arch, board, cpus, partitions, isolatedCores },
          at,
        );
        this.logger.info({ node: name, agentVersion, arch, board, partitions }, "node.registered");
        await this.placeWaiting(at);
        return { type: "welcome", name };
      }
      case "sync": {
        const [software, listed] = await Promise.all([
          this.store.listSoftware(name),
          this.store.listInstances({ node: name }),
        ]);
        const instances = listed.filter(isPlaced);
        // Children run on their parent's node, so this node's list holds them all.
        const children = new Map<string, InstanceRecord[]>();
        for (const i of instances)
          if (i.parent !== null) children.set(i.parent, [...(children.get(i.parent) ?? []), i]);
        return {
          type: "desired",
          software,
          instances: instances.map((i) => {
            const requested = this.orchestrator.requested(i.name, children.get(i.name) ?? []);
            return {
              name: i.name,
              software: i.software,
              parameters: i.parameters,
              partition: i.partition,
              cores: i.cores,
              state: i.requestedState,
              ...(requested ? { requested } : {}),
            };
          }),
        };
      }
      case "report": {
        // Each instance on its own: one invalid instance is dropped, never the report.
        const { valid, rejected } = validateInstanceReports(request.instances);
        if (rejected.length > 0) {
          this.metrics.instanceReportsRejected.inc(rejected.length);
          this.logger.warn({ node: name, rejected }, "report.instances_rejected");
        }
        // Usage first: the final figures of an instance reported destroyed still count.
        const foreignUsage = await this.store.addUsage(name, request.usage, at);
        const ignored = await this.store.applyReport(name, valid, at);
        for (const r of valid)
          if (r.requests !== undefined && !ignored.includes(r.name))
            await this.orchestrator.apply(name, r.name, r.requests, at);
        this.onReport?.(
          name,
          valid.filter((r) => !ignored.includes(r.name)),
          at,
        );
        // A destroyed instance freed its partition: a waiting request may fit now.
        if (valid.some((r) => r.status === "destroyed")) await this.placeWaiting(at);
        const unknown = [...new Set([...ignored, ...foreignUsage])];
        if (unknown.length > 0)
          this.logger.warn({ node: name, instances: unknown }, "report.unknown_instances");
        return rejected.length > 0 ? { type: "ack", rejected } : { type: "ack" };
      }
      case "telemetry": {
        const { v: _v, id: _id, type: _type, node: _node, ...chunk } = request;
        const { duplicate } = await this.ingest.ingest({ ...chunk, node: name, receivedAt: at });
        return { type: "ack", chunkId: request.chunkId, duplicate };
      }
      case "schema": {
        const { duplicate, decodedChunks } = await this.store.addSchema(
          request.fingerprint,
          request.schema,
          at,
        );
        if (!duplicate || decodedChunks > 0)
          this.logger.info(
            {
              node: name,
              fingerprint: Buffer.from(request.fingerprint).toString("hex"),
              decodedChunks,
            },
            "telemetry.schema_stored",
          );
        return { type: "ack", duplicate };
      }
      case "loss": {
        const { v: _v, id: _id, type: _type, node: _node, ...loss } = request;
        const [result] = await this.store.recordLosses([{ ...loss, node: name, receivedAt: at }]);
        const duplicate = result?.duplicate === true;
        if (!duplicate) {
          this.metrics.lostRecords.inc({ reason: loss.reason }, loss.records);
          this.logger.warn({ node: name, ...loss }, "telemetry.loss_reported");
        }
        return { type: "ack", lossId: request.lossId, duplicate };
      }
    }
  }

  private async placeWaiting(at: number): Promise<void> {
    const placed = await this.store.placeWaiting(placeInstance, at);
    if (placed.length > 0) this.logger.info({ instances: placed }, "instance.placed");
  }

  lastSeen(node: string): number | undefined {
    return this.latest.get(node);
  }

  /** The key of a node that spoke to this master since it started. */
  keyOf(node: string): string | undefined {
    return this.keys.get(node);
  }

  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flushSeen();
  }

  private async nodeName(publicKey: string): Promise<string | undefined> {
    const cached = this.names.get(publicKey);
    if (cached !== undefined) return cached;
    const node = await this.store.findNodeByKey(publicKey);
    if (node) {
      this.names.set(publicKey, node.name);
      this.keys.set(node.name, publicKey);
    }
    return node?.name;
  }

  private async flushSeen(): Promise<void> {
    if (this.seen.size === 0) return;
    const batch = new Map(this.seen);
    this.seen.clear();
    try {
      await this.store.touchNodes(batch);
    } catch (err) {
      this.logger.error({ err }, "node.last_seen_failed");
    }
  }
}
