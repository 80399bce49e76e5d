import type postgres from "postgres";
import type { RollupState } from "../readings/rollup.js";
import type { Row } from "./rows.js";

export const ROLLUP_COLUMNS = "n, lo, hi, total, last_ts, last_seq, last_chunk, last_v, last_unit";

/** One minute of a series and stream, to merge into `reading_rollups`. */
export interface RollupRow {
  series: number;
  minute: number;
  stream: string;
  state: RollupState;
}

/** A `reading_rollups` row's state (PostgreSQL keeps NaN as itself; lo and hi null while n is 0). */
export function toRollup(r: Row): RollupState {
  const count = Number(r.n);
  return {
    count,
    min: r.lo === null ? null : Number(r.lo),
    max: r.hi === null ? null : Number(r.hi),
    // A raw span's sum of no numbers is null.
    sum: r.total === null ? 0 : Number(r.total),
    lastTs: Number(r.last_ts),
    lastSeq: Number(r.last_seq),
    lastChunk: Number(r.last_chunk),
    last: r.last_v === null ? Number.NaN : Number(r.last_v),
    unit: typeof r.last_unit === "string" ? r.last_unit : null,
  };
}

/**
 * Merges minutes into `reading_rollups` with one `INSERT … ON CONFLICT DO UPDATE`; each
 * (series, minute, stream) at most once (a statement cannot update a row twice), so the
 * caller merges a batch's chunks first. The newer `last` wins by (ts, seq, chunk id).
 * Rows go in key order, so two masters' upserts take shared rows in the same order.
 */
export async function upsertRollups(
  sql: postgres.ISql,
  unordered: readonly RollupRow[],
): Promise<void> {
  if (unordered.length === 0) return;
  const rows = [...unordered].sort(
    (a, b) =>
      a.series - b.series ||
      a.minute - b.minute ||
      (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0),
  );
  const col = <T>(f: (r: RollupRow) => T) => rows.map(f);
  const newer =
    "(excluded.last_ts, excluded.last_seq, excluded.last_chunk) > (r.last_ts, r.last_seq, r.last_chunk)";
  const last = (c: string) => `${c} = CASE WHEN ${newer} THEN excluded.${c} ELSE r.${c} END`;
  await sql`INSERT INTO reading_rollups AS r (series, minute, stream, ${sql.unsafe(ROLLUP_COLUMNS)})
    SELECT * FROM unnest(${col((r) => r.series)}::int4[], ${col((r) => r.minute)}::int8[],
      ${col((r) => r.stream)}::text[], ${col((r) => r.state.count)}::int8[],
      ${col((r) => r.state.min)}::float8[], ${col((r) => r.state.max)}::float8[],
      ${col((r) => r.state.sum)}::float8[], ${col((r) => r.state.lastTs)}::int8[],
      ${col((r) => r.state.lastSeq)}::int8[], ${col((r) => r.state.lastChunk)}::int8[],
      ${col((r) => r.state.last)}::float8[], ${col((r) => r.state.unit)}::text[])
    ON CONFLICT (series, minute, stream) DO UPDATE SET n = r.n + excluded.n,
      lo = least(r.lo, excluded.lo), hi = greatest(r.hi, excluded.hi),
      total = r.total + excluded.total,
      ${sql.unsafe(["last_v", "last_unit", "last_ts", "last_seq", "last_chunk"].map(last).join(", "))}`;
}
