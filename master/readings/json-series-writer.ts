import type { AggregatePoint, Reading } from "./reading.js";
import { jsonValue } from "./reading-values.js";
import type { RowFormat } from "./text-stream.js";

/** What names a series: rows arrive grouped by it (the store's order). */
type SeriesRow = Pick<Reading, "node" | "device" | "tag" | "unit"> & { stream?: string };

/** The closing parts of the document, once every row is written. */
export type SeriesTail = () => Promise<Record<string, unknown>>;

/**
 * `{"series":[{node,device,tag,stream?,unit,points:[…]}…], …tail}` written row by row:
 * a series opens when (node, device, tag) changes, so the document is never held whole.
 * `unit` is the series' first row's (null when it has none).
 */
class JsonSeriesFormat<T extends SeriesRow> implements RowFormat<T> {
  private current: string | undefined;

  constructor(
    private readonly point: (row: T) => string,
    private readonly closing: SeriesTail,
    private readonly seen?: (row: T) => void,
  ) {}

  head(): string {
    return '{"series":[';
  }

  row(row: T): string {
    this.seen?.(row);
    const id = `${row.node}\u0000${row.device}\u0000${row.tag}`;
    if (id === this.current) return `,${this.point(row)}`;
    const open = this.current === undefined ? "" : "]},";
    this.current = id;
    const series = {
      node: row.node,
      device: row.device,
      tag: row.tag,
      ...(row.stream !== undefined ? { stream: row.stream } : {}),
      unit: row.unit ?? null,
    };
    return `${open}${JSON.stringify(series).slice(0, -1)},"points":[${this.point(row)}`;
  }

  async tail(): Promise<string> {
    const rest = JSON.stringify(await this.closing()).slice(1);
    return `${this.current === undefined ? "" : "]}"}]${rest === "}" ? "}" : `,${rest}`}`;
  }
}

/**
 * Raw readings: each point `[ts, value, quality]`, 64-bit integers as decimal strings.
 * `seen` is shown every reading as it is written (to place gaps among them).
 */
export function jsonReadings(tail: SeriesTail, seen?: (r: Reading) => void): RowFormat<Reading> {
  return new JsonSeriesFormat<Reading>(
    (r) => JSON.stringify([r.ts, jsonValue(r.value), r.quality]),
    tail,
    seen,
  );
}

/** Aggregates: each point `[bucket start, value, readings in the bucket]`. */
export function jsonAggregates(tail: SeriesTail): RowFormat<AggregatePoint> {
  return new JsonSeriesFormat<AggregatePoint>(
    (p) => JSON.stringify([p.ts, jsonValue(p.value), p.count]),
    tail,
  );
}
