import type { BufferBacklog } from "../../protocol/index.js";

/** Chunks, records and the newest chunk's time of one node's committed telemetry. */
export interface NodeTelemetry {
  records: number;
  chunks: number;
  lastChunkAt: number;
}

/** One node's buffer backlog: its instances' summed, and each instance's. */
export type NodeBacklog = BufferBacklog & { instances: Record<string, BufferBacklog> };

export interface TelemetryStatus {
  /** Records committed per second over the last THROUGHPUT_WINDOW_MS. */
  recordsPerSecond: number;
  /**
   * Per node: records and chunks committed (first copies only), and when the last one
   * was. Since the master started on SQLite; since the node's first chunk on a store
   * several masters share (PostgreSQL), counted by the store.
   */
  nodes: Record<string, NodeTelemetry>;
  /**
   * Per node: what its instances' buffers had not delivered at their last report (summed;
   * `at` is the oldest of those reports). While a node's link is down this is the figure
   * from before the outage: the node cannot tell the master it is growing.
   */
  backlog: Record<string, NodeBacklog>;
}

/** The window records/s is measured over. */
export const THROUGHPUT_WINDOW_MS = 10_000;

/** Records/s of `records` committed within THROUGHPUT_WINDOW_MS. */
export function recordsPerSecond(records: number): number {
  return Math.round((records * 1000) / THROUGHPUT_WINDOW_MS);
}

/** Per node, its instances' last buffer backlogs (instance name → backlog) summed. */
export function nodeBacklogs(
  byNode: ReadonlyMap<string, ReadonlyMap<string, BufferBacklog>>,
): Record<string, NodeBacklog> {
  const out: Record<string, NodeBacklog> = {};
  for (const [node, instances] of byNode) {
    const all = [...instances.values()];
    if (all.length === 0) continue;
    out[node] = {
      records: all.reduce((n, b) => n + b.records, 0),
      bytes: all.reduce((n, b) => n + b.bytes, 0),
      oldestAgeMs: Math.max(...all.map((b) => b.oldestAgeMs)),
      peakRecords: all.reduce((n, b) => n + b.peakRecords, 0),
      at: Math.min(...all.map((b) => b.at)),
      instances: Object.fromEntries(instances),
    };
  }
  return out;
}
