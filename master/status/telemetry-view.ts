import type { BufferBacklog, InstanceReport } from "../../protocol/index.js";
import type { StoredChunk } from "../store.js";

/** One decoded reading, as the status page charts it. */
export interface TagPoint {
  device: string;
  tag: string;
  /** ms since the epoch */
  ts: number;
  value: number | boolean | string | bigint | null;
  unit?: string;
}

/**
 * Turns a stored chunk's body into readings. The master does not know the records'
 * schema (the collector does): whoever starts the master may plug one in.
 */
export type TelemetryDecoder = (chunk: StoredChunk) => TagPoint[];

export interface SeriesView {
  device: string;
  tag: string;
  unit?: string;
  /** [ts, value] oldest first */
  points: [number, number][];
}

export interface TelemetryStatus {
  /** Records committed per second over the last `windowMs`. */
  recordsPerSecond: number;
  /** Per node: records and chunks committed since the master started, last chunk time. */
  nodes: Record<string, { records: number; chunks: number; lastChunkAt: number }>;
  series: SeriesView[];
  /**
   * Per node: what its instances' buffers had not delivered at their last report (summed;
   * `at` is the oldest of those reports). While a node's link is down this is the figure
   * from before the outage: the node cannot tell the master it is growing.
   */
  backlog: Record<string, BufferBacklog & { instances: Record<string, BufferBacklog> }>;
}

const WINDOW_MS = 10_000;
const POINTS_PER_SERIES = 300;
const MAX_SERIES = 200;

/**
 * What the status page shows of telemetry, kept in memory from the chunks the master
 * commits: throughput, per-node totals and the last numeric readings of each tag
 * (bounded: at most MAX_SERIES tags of POINTS_PER_SERIES points).
 */
export class TelemetryView {
  private readonly committed: { at: number; records: number }[] = [];
  private readonly nodes = new Map<
    string,
    { records: number; chunks: number; lastChunkAt: number }
  >();
  private readonly series = new Map<string, SeriesView>();
  private readonly backlogs = new Map<string, Map<string, BufferBacklog>>();

  constructor(private readonly decode?: TelemetryDecoder) {}

  /** A chunk was committed for the first time (duplicates are not shown twice). */
  observe(chunk: StoredChunk, at: number): void {
    this.committed.push({ at, records: chunk.records });
    const node = this.nodes.get(chunk.node) ?? { records: 0, chunks: 0, lastChunkAt: 0 };
    node.records += chunk.records;
    node.chunks++;
    node.lastChunkAt = at;
    this.nodes.set(chunk.node, node);
    if (!this.decode) return;
    let points: TagPoint[];
    try {
      points = this.decode(chunk);
    } catch {
      return;
    }
    for (const p of points) this.addPoint(p);
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
      series: [...this.series.values()],
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

  private addPoint(p: TagPoint): void {
    const value =
      typeof p.value === "number" || typeof p.value === "bigint"
        ? Number(p.value)
        : typeof p.value === "boolean"
          ? Number(p.value)
          : undefined;
    if (value === undefined || !Number.isFinite(value)) return;
    const key = `${p.device}/${p.tag}`;
    let s = this.series.get(key);
    if (!s) {
      if (this.series.size >= MAX_SERIES) return;
      s = { device: p.device, tag: p.tag, ...(p.unit ? { unit: p.unit } : {}), points: [] };
      this.series.set(key, s);
    }
    s.points.push([p.ts, value]);
    if (s.points.length > POINTS_PER_SERIES)
      s.points.splice(0, s.points.length - POINTS_PER_SERIES);
  }
}
