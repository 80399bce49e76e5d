import type postgres from "postgres";
import type { AggregatePoint, AggregateQuery, SeriesKey } from "../readings/reading.js";
import type { RollupState } from "../readings/rollup.js";
import { ceilMinute, floorMinute, rollupBuckets } from "../readings/rollup-buckets.js";
import { AS_DOUBLE, NUMERIC, page } from "./reading-sql.js";
import { ROLLUP_COLUMNS, toRollup } from "./rollup-rows.js";

/** Rollup rows read per statement. */
const PAGE = 1000;

const GOOD_NUMERIC = `${NUMERIC} AND quality = 'good'`;

const MINUTES = `SELECT minute, stream, ${ROLLUP_COLUMNS} FROM reading_rollups
  WHERE series = $1 AND minute >= $2 AND minute < $3 AND (minute, stream) > ($4, $5)
  ORDER BY minute, stream LIMIT ${PAGE}`;
const RAW_SPAN = `SELECT count(v) AS n, min(v) AS lo, max(v) AS hi, sum(v) AS total,
    max(ts) AS last_ts
  FROM (SELECT ts, ${AS_DOUBLE} AS v FROM readings
    WHERE series = $1 AND ts >= $2 AND ts < $3 AND ${GOOD_NUMERIC}) x`;
const RAW_LAST = `SELECT seq AS last_seq, chunk_id AS last_chunk, ${AS_DOUBLE} AS last_v,
    unit AS last_unit
  FROM readings WHERE series = $1 AND ts = $2 AND ${GOOD_NUMERIC}
  ORDER BY seq DESC, chunk_id DESC LIMIT 1`;

export interface SeriesRow extends SeriesKey {
  id: number;
}

/**
 * Aggregates answered from the 1-minute rollups, as SQLite's (sqlite/rollup-queries.ts):
 * each bucket merges its minutes; a minute the window cuts is taken from the raw
 * readings of the part inside the window. Pages by keyset, one statement each.
 */
export class PgRollupAggregates {
  constructor(
    private readonly sql: postgres.Sql,
    private readonly seriesOf: (query: AggregateQuery) => AsyncIterable<SeriesRow>,
  ) {}

  async *aggregates(query: AggregateQuery): AsyncGenerator<AggregatePoint> {
    for await (const s of this.seriesOf(query))
      yield* rollupBuckets(s, this.pieces(s.id, query.from, query.to), query);
  }

  /** The series' spans in time order, each with its start: the cut minutes raw, whole ones rolled up. */
  private async *pieces(
    series: number,
    from: number,
    to: number,
  ): AsyncGenerator<[number, RollupState]> {
    const head = ceilMinute(from);
    const tail = floorMinute(to);
    const first = from < head ? await this.raw(series, from, head) : undefined;
    if (first) yield [from, first];
    let cursor: [number, string] = [head - 1, ""];
    for (;;) {
      const rows = await page(this.sql, MINUTES, [series, head, tail, ...cursor]);
      for (const r of rows) yield [Number(r.minute), toRollup(r)];
      const last = rows.at(-1);
      if (!last || rows.length < PAGE) break;
      cursor = [Number(last.minute), String(last.stream)];
    }
    const end = tail < to ? await this.raw(series, tail, to) : undefined;
    if (end) yield [tail, end];
  }

  /** The raw readings of [from, to) as one span; undefined when it holds no numeric reading. */
  private async raw(series: number, from: number, to: number): Promise<RollupState | undefined> {
    // Whole ms: a window's edges may be fractional, ts is not.
    const [span] = await page(this.sql, RAW_SPAN, [series, Math.ceil(from), Math.ceil(to)]);
    if (!span || span.last_ts === null) return undefined;
    const [last] = await page(this.sql, RAW_LAST, [series, span.last_ts]);
    return toRollup({ ...span, ...last });
  }
}
