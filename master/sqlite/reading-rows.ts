import type { Reading, SeriesKey } from "../readings/reading.js";
import { readingValue, VALUE_KIND } from "../readings/value-kind.js";

/**
 * The columns of a readings page, as few as a row can do with: turning a row into JS
 * costs per column (better-sqlite3 makes each value through V8's API), more than
 * SQLite's step itself. ts, seq, chunk id, kind, the value (64-bit integers as their
 * decimal text: numbers otherwise, no bigint per row), then the row's names: NULL when
 * its stream, quality and unit are those given (`@stream`, `@quality`,
 * `@unit`: the previous page's last row's) and it has no status or extra fields, as in
 * a series' run of good readings; else all five as a JSON array.
 */
export const READING_COLUMNS = `ts, seq, chunk_id, kind,
  CASE WHEN kind IN (${VALUE_KIND.int64}, ${VALUE_KIND.uint64}) THEN CAST(value AS TEXT)
    ELSE value END,
  CASE WHEN stream IS @stream AND quality IS @quality AND unit IS @unit
      AND status IS NULL AND extra IS NULL THEN NULL
    ELSE json_array(stream, quality, unit, status, extra) END`;

/** A row of READING_COLUMNS (raw: by position, no object per row). */
export type ReadingRow = [
  ts: number,
  seq: number,
  chunkId: number,
  kind: number,
  value: unknown,
  names: string | null,
];

type Names = [
  stream: string,
  quality: string,
  unit: string | null,
  status: string | null,
  extra: string | null,
];

/** The names the next page's rows are compared with (bound as `@stream`, `@quality`, `@unit`). */
export interface LastNames {
  stream: string | null;
  quality: string | null;
  unit: string | null;
}

/**
 * Readings of a page of `s`. `last` holds the names the page was selected with (a row
 * without names has these); it is left holding the page's last row's, for the next page.
 */
export function readingsOf(s: SeriesKey, rows: readonly ReadingRow[], last: LastNames): Reading[] {
  const { node, device, tag } = s;
  const given = last as { stream: string; quality: string; unit: string | null };
  const out = new Array<Reading>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as ReadingRow;
    let { stream, quality, unit } = given;
    let status: string | null = null;
    let extra: string | null = null;
    if (r[5] !== null) [stream, quality, unit, status, extra] = JSON.parse(r[5]) as Names;
    const reading: Reading = {
      node,
      stream,
      device,
      tag,
      ts: r[0],
      value: readingValue(r[3], r[4]),
      quality,
      seq: r[1],
    };
    if (status !== null) reading.status = status;
    if (unit !== null) reading.unit = unit;
    if (extra !== null) reading.extra = JSON.parse(extra) as Record<string, unknown>;
    out[i] = reading;
  }
  const end = out.at(-1);
  if (end) {
    last.stream = end.stream;
    last.quality = end.quality;
    last.unit = end.unit ?? null;
  }
  return out;
}
