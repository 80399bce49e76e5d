import type { BufferBacklog, InstanceReport } from "../../protocol/index.js";
import type { StoredChunk } from "../store.js";

export interface TelemetryStatus {
  /** Records committed per second over the last `windowMs`. */
  recordsPerSecond: number;
  /** Per node: records and chunks committed since the master started, last chunk time. */
  nodes: Record<string, { records: number; chunks: number; lastChunkAt: number }>;
  /**
   * Per node: what its instances' buffers had not delivered at their last report (summed;
   * `at` is the oldest of those reports). While a node's link is down this is the figure
   * from before the outage: the node cannot tell the master it is growing.
   */
  backlog: Record<string, BufferBacklog & { instances: Record<string, BufferBacklog> }>;
}

const WINDOW_MS = 10_000;

/**
 * What the status page shows of telemetry besides the readings (which it reads from the
 * store, /v1/readings): throughput and per-node totals of the chunks the master commits,
 * and each node's buffer backlogs.
 */
export class TelemetryView {
  private readonly committed: { at: number; records: number }[] = [];
  private readonly nodes = new Map<
    string,
    { records: number; chunks: number; lastChunkAt: number }
  >();
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
    while ((this.committed[0]?.at ?? now) < now - WINDOW_MS) this.committed.shift();
    const records = this.committed.reduce((n, c) => n + c.records, 0);
    return {
      recordsPerSecond: Math.round((records * 1000) / WINDOW_MS),
      nodes: Object.fromEntries(this.nodes),
      backlog: Object.fromEntries(
        [...this.backlogs].map(([node, instances]) => {
          const all = [...instances.values()];
          return [
            node,
            {
              records: all.reduce((n, b) => n + b.records, 0),
              bytes: all.reduce((n, b) => n + b.bytes, 0),
              oldestAgeMs: Math.max(...all.map((b) => b.oldestAgeMs)),
              peakRecords: all.reduce((n, b) => n + b.peakRecords, 0),
              at: Math.min(...all.map((b) => b.at)),
              instances: Object.fromEntries(instances),
            },
          ];
        }),
      ),
    };
  }
}
