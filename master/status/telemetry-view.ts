import type { BufferBacklog, InstanceReport } from "../../protocol/index.js";
import type { StoredChunk } from "../store.js";
import {
  type NodeTelemetry,
  nodeBacklogs,
  recordsPerSecond,
  type TelemetryStatus,
  THROUGHPUT_WINDOW_MS,
} from "./telemetry-status.js";

/**
 * What the status page shows of telemetry besides the readings (which it reads from the
 * store, /v1/readings), kept in memory by the one master of a SQLite store: throughput
 * and per-node totals of the chunks it commits, and each node's buffer backlogs. A store
 * several masters share answers the same from itself (MasterStore.shared).
 */
export class TelemetryView {
  private readonly committed: { at: number; records: number }[] = [];
  private readonly nodes = new Map<string, NodeTelemetry>();
  private readonly backlogs = new Map<string, Map<string, BufferBacklog>>();

  /** A chunk was committed for the first time (duplicates are not shown twice). */
  observe(chunk: StoredChunk, at: number): void {
    this.committed.push({ at, records: chunk.records });
    const node = this.nodes.get(chunk.node) ?? { records: 0, chunks: 0, lastChunkAt: 0 };
    node.records += chunk.records;
    node.chunks++;
    node.lastChunkAt = at;
    this.nodes.set(chunk.node, node);
  }

  /** An accepted report: keeps each instance's last buffer backlog, forgets destroyed ones. */
  observeReports(node: string, reports: InstanceReport[]): void {
    const mine = this.backlogs.get(node) ?? new Map<string, BufferBacklog>();
    for (const r of reports) {
      if (r.status === "destroyed") mine.delete(r.name);
      else if (r.buffer) mine.set(r.name, r.buffer);
    }
    if (mine.size > 0) this.backlogs.set(node, mine);
    else this.backlogs.delete(node);
  }

  status(now: number): TelemetryStatus {
    while ((this.committed[0]?.at ?? now) < now - THROUGHPUT_WINDOW_MS) this.committed.shift();
    return {
      recordsPerSecond: recordsPerSecond(this.committed.reduce((n, c) => n + c.records, 0)),
      nodes: Object.fromEntries(this.nodes),
      backlog: nodeBacklogs(this.backlogs),
    };
  }
}
