import type postgres from "postgres";
import { InvalidRequestError } from "../errors.js";
import type {
  AggregatePoint,
  AggregateQuery,
  Reading,
  ReadingsQuery,
  SeriesKey,
  SeriesQuery,
} from "../readings/reading.js";
import { answersFromRollups } from "../readings/rollup-buckets.js";
import { readingValue, VALUE_KIND } from "../readings/value-kind.js";
import { AS_DOUBLE, NUMERIC, page } from "./reading-sql.js";
import { PgRollupAggregates, type SeriesRow } from "./rollup-queries.js";
import type { Row } from "./rows.js";

/** Rows, buckets or series read per statement. */
const PAGE = 1000;
/**
 * Readings read per statement. Each page costs a round trip and, being planned for its
 * values (CUSTOM_PLAN), a plan; but a page is held whole until rendered, and at 10,000
 * rows its row arrays outlived young-generation collections: GC took a fifth of the
 * master's time reading a day (bench/query: ratio 0.70 at 10,000, 1.03 at 2,000, 0.92
 * at 1,000, same run conditions).
 */
const READINGS_PER_PAGE = 2_000;

const QUALITY = "($ANY::boolean OR quality = 'good')";

const SERIES_PAGE = `SELECT id, node, device, tag FROM series
  WHERE (node, device, tag) > ($1, $2, $3)
    AND ($4::text IS NULL OR node = $4) AND ($5::text IS NULL OR device = $5)
    AND ($6::text[] IS NULL OR tag = ANY($6::text[]))
  ORDER BY node, device, tag LIMIT ${PAGE}`;
// `ts >= $2` beside the row comparison lets the planner prune partitions.
const READINGS_PAGE = `SELECT ts, seq, chunk_id, stream, kind, v_double, v_int, v_text, v_bytes,
    quality, status, unit, extra
  FROM readings WHERE series = $1 AND ts >= $2 AND (ts, seq, chunk_id) > ($2, $3, $4)
    AND ts < $5 AND ${QUALITY.replace("$ANY", "$6")}
  ORDER BY ts, seq, chunk_id LIMIT ${READINGS_PER_PAGE}`;
const NEXT_NUMERIC = `SELECT ts FROM readings
  WHERE series = $1 AND ts >= $2 AND ts < $3 AND ${NUMERIC} AND ${QUALITY.replace("$ANY", "$4")}
  ORDER BY ts LIMIT 1`;
// Each bucket's `last` is found by its newest time: one index probe per bucket, no sort.
const BUCKETS = `SELECT g.b, g.n, g.lo, g.hi, g.mean, l.v AS last, l.unit FROM (
    SELECT b, count(v) AS n, min(v) AS lo, max(v) AS hi, avg(v) AS mean, max(ts) AS last_ts
    FROM (SELECT ts - ((ts % $4::int8) + $4::int8) % $4::int8 AS b, ts, ${AS_DOUBLE} AS v
      FROM readings WHERE series = $1 AND ts >= $2 AND ts < $3 AND ${NUMERIC}
        AND ${QUALITY.replace("$ANY", "$5")}) x
    GROUP BY b) g
  CROSS JOIN LATERAL (SELECT ${AS_DOUBLE} AS v, unit FROM readings
    WHERE series = $1 AND ts = g.last_ts AND ${NUMERIC} AND ${QUALITY.replace("$ANY", "$5")}
    ORDER BY seq DESC, chunk_id DESC LIMIT 1) l
  ORDER BY g.b`;

/**
 * A readings page is planned for its own values, never prepared once: the generic plan
 * PostgreSQL switches a prepared statement to after 5 runs cannot prune partitions when
 * planning, so it appends every partition the range might touch (the default one among
 * them, whose rows may hold any time, so no ordered append) and sorts the whole rest of
 * the range for each page: a day of one tag read ten times slower. Planning with
 * the values prunes to the day's partition and walks its primary key in order.
 */
const CUSTOM_PLAN = false;

/**
 * Readings and aggregates of the readings table, streamed by keyset pagination: each
 * statement reads one page and returns, so no statement (and no snapshot) stays open
 * while the caller awaits a slow client: a pooled connection is held for one page, and
 * nothing long-running blocks the writer making a day's partition. Pages follow the
 * primary key (series, ts, seq, chunk id); ingest committing meanwhile shows in later
 * pages, as with SQLite.
 */
export class PgReadingsQueries {
  private readonly rollups: PgRollupAggregates;

  constructor(private readonly sql: postgres.Sql) {
    this.rollups = new PgRollupAggregates(sql, (query) => this.series(query));
  }

  async *readingPages(query: ReadingsQuery): AsyncGenerator<Reading[]> {
    const to = Math.ceil(query.to);
    for await (const s of this.series(query)) {
      let cursor: unknown[] = [Math.floor(query.from), -1, -1];
      for (;;) {
        const rows = (await this.sql
          .unsafe(
            READINGS_PAGE,
            [s.id, ...cursor, to, !!query.anyQuality] as postgres.ParameterOrJSON<never>[],
            { prepare: CUSTOM_PLAN },
          )
          .values()) as unknown as ReadingRow[];
        if (rows.length > 0) yield readingsOf(s, rows);
        const last = rows.at(-1);
        if (!last || rows.length < READINGS_PER_PAGE) break;
        cursor = [last[0], last[1], last[2]];
      }
    }
  }

  /**
   * From the rollups when they answer the query (readings/rollup-buckets.ts), else from
   * the raw readings: up to PAGE buckets per statement, empty stretches skipped by seeking
   * the next reading.
   */
  async *aggregates(query: AggregateQuery): AsyncGenerator<AggregatePoint> {
    const step = query.stepMs;
    if (!(Number.isInteger(step) && step >= 1))
      throw new InvalidRequestError(`stepMs: expected a whole number of ms above 0, got ${step}`);
    if (answersFromRollups(query)) {
      yield* this.rollups.aggregates(query);
      return;
    }
    const anyQuality = !!query.anyQuality;
    const to = Math.ceil(query.to);
    for await (const s of this.series(query)) {
      let from = Math.floor(query.from);
      while (from < to) {
        const [next] = await this.page(NEXT_NUMERIC, [s.id, from, to, anyQuality]);
        if (!next) break;
        const ts = Number(next.ts);
        const end = Math.min(ts - mod(ts, step) + PAGE * step, to);
        const buckets = await this.page(BUCKETS, [s.id, from, end, step, anyQuality]);
        for (const b of buckets) {
          const value = { avg: b.mean, min: b.lo, max: b.hi, last: b.last, count: b.n }[query.agg];
          yield {
            node: s.node,
            device: s.device,
            tag: s.tag,
            ...(typeof b.unit === "string" ? { unit: b.unit } : {}),
            ts: Number(b.b),
            value: value === null || value === undefined ? null : Number(value),
            count: Number(b.n),
          };
        }
        from = end;
      }
    }
  }

  async readingSeries(query: SeriesQuery = {}): Promise<SeriesKey[]> {
    const out: SeriesKey[] = [];
    for await (const { node, device, tag } of this.series(query)) out.push({ node, device, tag });
    return out;
  }

  private async *series(query: SeriesQuery & { tags?: string[] }): AsyncGenerator<SeriesRow> {
    const filter = [
      query.node ?? null,
      query.device ?? null,
      query.tags && query.tags.length > 0 ? query.tags : null,
    ];
    // Node names are never empty, so the empty key sorts before every series.
    let after: unknown[] = ["", "", ""];
    for (;;) {
      const rows = await this.page(SERIES_PAGE, [...after, ...filter]);
      for (const r of rows)
        yield {
          id: Number(r.id),
          node: String(r.node),
          device: String(r.device),
          tag: String(r.tag),
        };
      const last = rows.at(-1);
      if (!last || rows.length < PAGE) return;
      after = [last.node, last.device, last.tag];
    }
  }

  private page(text: string, params: unknown[], prepare = true): Promise<Row[]> {
    return page(this.sql, text, params, prepare);
  }
}

/**
 * A readings row as READINGS_PAGE selects it, by position (no object per row); bigint
 * columns come as decimal text, as postgres.js gives them.
 */
type ReadingRow = [
  ts: string,
  seq: string,
  chunkId: string,
  stream: string,
  kind: number,
  vDouble: number | null,
  vInt: string | null,
  vText: string | null,
  vBytes: Uint8Array | null,
  quality: string,
  status: string | null,
  unit: string | null,
  extra: Record<string, unknown> | null,
];

function readingsOf(s: SeriesKey, rows: readonly ReadingRow[]): Reading[] {
  const { node, device, tag } = s;
  const out = new Array<Reading>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as ReadingRow;
    const kind = r[4];
    const stored =
      kind === VALUE_KIND.float64 ? r[5] : kind === VALUE_KIND.string ? r[7] : (r[6] ?? r[8]);
    const reading: Reading = {
      node,
      stream: r[3],
      device,
      tag,
      ts: Number(r[0]),
      value: readingValue(kind, stored),
      quality: r[9],
      seq: Number(r[1]),
    };
    if (r[10] !== null) reading.status = r[10];
    if (r[11] !== null) reading.unit = r[11];
    if (r[12] !== null) reading.extra = r[12];
    out[i] = reading;
  }
  return out;
}

/** The remainder of a floor division: buckets of times before 1970 are aligned too. */
function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}
