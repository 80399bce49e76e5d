import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { RejectReason } from "../protocol/index.js";
import type { OutboxState } from "./store.js";

/** The master's Prometheus metrics, in a registry of its own (several masters per process in tests). */
export class MasterMetrics {
  readonly registry = new Registry();
  readonly messages = new Counter({
    name: "outpost_master_messages_total",
    help: "Node requests accepted, by type",
    labelNames: ["type"],
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: "outpost_master_messages_rejected_total",
    help: "Inbound messages refused before handling, by reason",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  readonly instanceReportsRejected = new Counter({
    name: "outpost_master_instance_reports_rejected_total",
    help: "Instances of node reports dropped as invalid (the rest of each report applied)",
    registers: [this.registry],
  });
  readonly denied = new Counter({
    name: "outpost_master_connections_denied_total",
    help: "CURVE handshakes refused because the node key is unknown",
    registers: [this.registry],
  });
  readonly chunks = new Counter({
    name: "outpost_master_telemetry_chunks_total",
    help: "Telemetry chunks acked, by result (stored or duplicate)",
    labelNames: ["result"],
    registers: [this.registry],
  });
  readonly records = new Counter({
    name: "outpost_master_telemetry_records_total",
    help: "Telemetry records stored (duplicates not counted)",
    registers: [this.registry],
  });
  readonly lostRecords = new Counter({
    name: "outpost_master_telemetry_lost_records_total",
    help: "Records nodes reported lost (overflow, corruption)",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  readonly commitSeconds = new Histogram({
    name: "outpost_master_ingest_commit_seconds",
    help: "Time to commit one batch of telemetry chunks",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly http = new Counter({
    name: "outpost_master_http_requests_total",
    help: "HTTP API requests, by method and status",
    labelNames: ["method", "status"],
    registers: [this.registry],
  });
  readonly retentionDeleted = new Counter({
    name: "outpost_master_retention_deleted_total",
    help: "What retention deleted, by what (readings, rollups, chunk_bodies, series)",
    labelNames: ["what"],
    registers: [this.registry],
  });
  readonly retentionSeconds = new Histogram({
    name: "outpost_master_retention_run_seconds",
    help: "Time one retention run took (ingest keeps committing meanwhile)",
    buckets: [0.01, 0.1, 1, 10, 60, 300, 1800],
    registers: [this.registry],
  });
  readonly retentionFailures = new Counter({
    name: "outpost_master_retention_failures_total",
    help: "Retention runs that failed (logged retention.failed)",
    registers: [this.registry],
  });
  readonly linksHeld: Gauge = new Gauge({
    name: "outpost_master_links_held",
    help: "Nodes whose control link this master heard from within the online window (20 s)",
    registers: [this.registry],
    collect: (): void => {
      this.linksHeld.set(this.countHeld());
    },
  });
  readonly wakes = new Counter({
    name: "outpost_master_wakes_total",
    help: "Wakes sent to nodes, by cause (change: their desired state changed; missed: the store listened again after losing its connection, so every node held is woken)",
    labelNames: ["cause"],
    registers: [this.registry],
  });
  readonly notifyLag = new Histogram({
    name: "outpost_master_notify_lag_seconds",
    help: "From a change's commit (on the clock of the master that made it) to the wake this master sent the node",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  /** How many links are held now; set once the link is up. */
  private countHeld: () => number = () => 0;

  /** Reads the outbox at each scrape; set by a master running with `--nats`. */
  outboxReader: (() => Promise<OutboxState>) | undefined;
  readonly outboxDepth = new Gauge({
    name: "outpost_master_outbox_depth",
    help: "Messages waiting in the telemetry outbox for NATS JetStream (every master of the store)",
    registers: [this.registry],
    // Read once per scrape, for both outbox gauges (this one is collected first).
    collect: async () => {
      const state = await this.outboxReader?.();
      if (!state) return;
      this.outboxDepth.set(state.messages);
      this.outboxOldestSeconds.set(
        state.oldestAt === null ? 0 : Math.max(0, (Date.now() - state.oldestAt) / 1000),
      );
    },
  });
  readonly outboxOldestSeconds = new Gauge({
    name: "outpost_master_outbox_oldest_seconds",
    help: "Age of the oldest message waiting in the telemetry outbox (0 when it is empty)",
    registers: [this.registry],
  });
  readonly natsPublished = new Counter({
    name: "outpost_master_nats_published_total",
    help: "Outbox messages JetStream acked, by result (stored, or duplicate: it had the message id already)",
    labelNames: ["result"],
    registers: [this.registry],
  });
  readonly natsPublishedReadings = new Counter({
    name: "outpost_master_nats_published_readings_total",
    help: "Readings in the messages JetStream stored (duplicates not counted)",
    registers: [this.registry],
  });
  readonly natsPublishFailures = new Counter({
    name: "outpost_master_nats_publish_failures_total",
    help: "Message publishes that failed (NATS away, no PubAck in time); each is tried again",
    registers: [this.registry],
  });
  readonly natsDropped = new Counter({
    name: "outpost_master_nats_dropped_readings_total",
    help: "Readings of messages that can never be published (too_large: over the server's max_payload), by reason",
    labelNames: ["reason"],
    registers: [this.registry],
  });

  constructor(
    /**
     * Nodes in the store, counted when scraped: several masters share the store, and a
     * count kept by each add would be this master's adds only (and a recount after each
     * add made adding a fleet of 10,000 quadratic).
     */
    countNodes?: () => Promise<number>,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: "outpost_master_" });
    if (countNodes)
      new Gauge({
        name: "outpost_master_nodes",
        help: "Nodes known to the store",
        registers: [this.registry],
        async collect() {
          this.set(await countNodes());
        },
      });
  }

  rejectedBy(reason: RejectReason): void {
    this.rejected.inc({ reason });
  }

  /** Where `outpost_master_links_held` is read from when scraped. */
  countLinksWith(count: () => number): void {
    this.countHeld = count;
  }
}
