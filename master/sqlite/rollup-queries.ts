import type Database from "better-sqlite3";
import type { AggregatePoint, AggregateQuery } from "../readings/reading.js";
import type { RollupState } from "../readings/rollup.js";
import { ceilMinute, floorMinute, rollupBuckets } from "../readings/rollup-buckets.js";
import { AS_DOUBLE, NUMERIC, nextTurn, type SeriesRow } from "./reading-sql.js";
import { ROLLUP_COLUMNS, toRollup } from "./rollup-rows.js";
import type { Row } from "./rows.js";

/** Rollup rows read per statement; the event loop runs between pages. */
const PAGE = 1000;

const GOOD_NUMERIC = `${NUMERIC} AND quality = 'good'`;

/**
 * Aggregates answered from the 1-minute rollups: buckets a whole number of minutes wide,
 * good readings only, over a window holding at least one whole minute. Each bucket
 * merges its minutes; a minute the window cuts (its first or last) is taken from the
 * raw readings of the part inside the window, so the answer is the raw answer (but for
 * the rounding of `avg`'s sum), and past raw retention it still has every whole minute.
 */
export class RollupAggregates {
  private readonly minutes: Database.Statement;
  private readonly rawSpan: Database.Statement;
  private readonly rawLast: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly seriesOf: (query: AggregateQuery) => AsyncIterable<SeriesRow>,
  ) {
    this.minutes = db.prepare(`SELECT minute, stream, ${ROLLUP_COLUMNS} FROM reading_rollups
      WHERE series = @series AND minute >= @from AND minute < @to
        AND (minute, stream) > (@minute, @stream)
      ORDER BY minute, stream LIMIT ${PAGE}`);
    this.rawSpan = db.prepare(`SELECT count(v) AS n, min(v) AS lo, max(v) AS hi,
        sum(v) AS total, max(ts) AS last_ts
      FROM (SELECT ts, ${AS_DOUBLE} AS v FROM readings
        WHERE series = @series AND ts >= @from AND ts < @to AND ${GOOD_NUMERIC})`);
    this.rawLast = db.prepare(`SELECT seq AS last_seq, chunk_id AS last_chunk,
        ${AS_DOUBLE} AS last_v, unit AS last_unit FROM readings
      WHERE series = @series AND ts = @ts AND ${GOOD_NUMERIC}
      ORDER BY seq DESC, chunk_id DESC LIMIT 1`);
  }

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
    const first = from < head ? this.raw(series, from, head) : undefined;
    if (first) yield [from, first];
    let cursor = { minute: head - 1, stream: "" };
    for (;;) {
      const rows = this.minutes.all({ series, from: head, to: tail, ...cursor }) as Row[];
      for (const r of rows) yield [Number(r.minute), toRollup(r)];
      const last = rows.at(-1);
      if (!last || rows.length < PAGE) break;
      cursor = { minute: Number(last.minute), stream: String(last.stream) };
      await nextTurn();
    }
    const end = tail < to ? this.raw(series, tail, to) : undefined;
    if (end) yield [tail, end];
  }

  /** The raw readings of [from, to) as one span; undefined when it holds no numeric reading. */
  private raw(series: number, from: number, to: number): RollupState | undefined {
    const span = this.rawSpan.get({ series, from, to }) as Row;
    if (span.last_ts === null) return undefined;
    const last = this.rawLast.get({ series, ts: span.last_ts }) as Row;
    return toRollup({ ...span, ...last });
  }
}
