import type Database from "better-sqlite3";
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
import { type LastNames, READING_COLUMNS, type ReadingRow, readingsOf } from "./reading-rows.js";
import { AS_DOUBLE, mod, NUMERIC, nextTurn, type SeriesRow } from "./reading-sql.js";
import { RollupAggregates } from "./rollup-queries.js";
import type { Row } from "./rows.js";

/**
 * Series, buckets or readings read per statement; the event loop runs between pages.
 * Larger pages of readings were slower: what a page allocates outlives the young
 * generation and is copied and promoted by the garbage collector.
 */
const PAGE = 1000;

const QUALITY = "(@anyQuality OR quality = 'good')";

/**
 * Readings and aggregates of the readings table, streamed: each statement reads one
 * page (keyset pagination over the primary key) and returns before the caller sees a
 * row, so no statement stays open while the caller awaits (ingest may commit meanwhile,
 * and later pages see its rows) and no range is ever held whole.
 */
export class ReadingsQueries {
  private readonly seriesPage: Database.Statement;
  private readonly readingsPage: Database.Statement;
  private readonly bucket: Database.Statement;
  private readonly lastOfBucket: Database.Statement;
  private readonly nextNumeric: Database.Statement;
  private readonly rollups: RollupAggregates;

  constructor(db: Database.Database) {
    this.seriesPage = db.prepare(`SELECT id, node, device, tag FROM series
      WHERE (node, device, tag) > (@node0, @device0, @tag0)
        AND (@node IS NULL OR node = @node) AND (@device IS NULL OR device = @device)
        AND (@tags IS NULL OR tag IN (SELECT value FROM json_each(@tags)))
      ORDER BY node, device, tag LIMIT ${PAGE}`);
    this.readingsPage = db
      .prepare(`SELECT ${READING_COLUMNS}
        FROM readings WHERE series = @series AND (ts, seq, chunk_id) > (@ts, @seq, @chunk)
          AND ts < @to AND ${QUALITY}
        ORDER BY ts, seq, chunk_id LIMIT ${PAGE}`)
      .raw(true);
    this.bucket = db.prepare(`SELECT count(v) AS n, min(v) AS lo, max(v) AS hi, avg(v) AS mean,
        max(ts) AS last FROM (SELECT ts, ${AS_DOUBLE} AS v FROM readings
          WHERE series = @series AND ts >= @from AND ts < @to AND ${NUMERIC} AND ${QUALITY})`);
    this.lastOfBucket = db.prepare(`SELECT ${AS_DOUBLE} AS v, unit FROM readings
      WHERE series = @series AND ts = @ts AND ${NUMERIC} AND ${QUALITY}
      ORDER BY seq DESC, chunk_id DESC LIMIT 1`);
    this.nextNumeric = db.prepare(`SELECT ts FROM readings
      WHERE series = @series AND ts >= @from AND ts < @to AND ${NUMERIC} AND ${QUALITY}
      ORDER BY ts LIMIT 1`);
    this.rollups = new RollupAggregates(db, (query) => this.series(query));
  }

  async *readingPages(query: ReadingsQuery): AsyncGenerator<Reading[]> {
    const anyQuality = query.anyQuality ? 1 : 0;
    const names: LastNames = { stream: null, quality: null, unit: null };
    for await (const s of this.series(query)) {
      // Each key was a JS number when written, so read back as one it is exact.
      let cursor = { ts: Math.floor(query.from), seq: -1, chunk: -1 };
      for (;;) {
        const rows = this.readingsPage.all({
          series: s.id,
          ...cursor,
          to: query.to,
          anyQuality,
          ...names,
        }) as ReadingRow[];
        if (rows.length > 0) yield readingsOf(s, rows, names);
        const last = rows.at(-1);
        if (!last || rows.length < PAGE) break;
        cursor = { ts: last[0], seq: last[1], chunk: last[2] };
        await nextTurn();
      }
    }
  }

  /**
   * From the rollups when they answer the query (readings/rollup-buckets.ts), else from the
   * raw readings: one bucket at a time, each an index range aggregated by SQLite (no
   * sort); empty buckets are skipped by seeking the next numeric reading.
   */
  async *aggregates(query: AggregateQuery): AsyncGenerator<AggregatePoint> {
    const anyQuality = query.anyQuality ? 1 : 0;
    const step = query.stepMs;
    if (!(Number.isInteger(step) && step >= 1))
      throw new InvalidRequestError(`stepMs: expected a whole number of ms above 0, got ${step}`);
    if (answersFromRollups(query)) {
      yield* this.rollups.aggregates(query);
      return;
    }
    let sinceYield = 0;
    for await (const s of this.series(query)) {
      let from = Math.floor(query.from);
      for (;;) {
        const next = this.nextNumeric.get({ series: s.id, from, to: query.to, anyQuality }) as
          | Row
          | undefined;
        if (!next) break;
        const start = Number(next.ts) - mod(Number(next.ts), step);
        const end = start + step;
        const b = this.bucket.get({
          series: s.id,
          from: Math.max(start, from),
          to: Math.min(end, query.to),
          anyQuality,
        }) as Row;
        const last = this.lastOfBucket.get({ series: s.id, ts: b.last, anyQuality }) as Row;
        const value = { avg: b.mean, min: b.lo, max: b.hi, last: last.v, count: b.n }[query.agg];
        yield {
          node: s.node,
          device: s.device,
          tag: s.tag,
          ...(typeof last.unit === "string" ? { unit: last.unit } : {}),
          ts: start,
          value: value === null || value === undefined ? null : Number(value),
          count: Number(b.n),
        };
        from = end;
        if (++sinceYield >= PAGE) {
          sinceYield = 0;
          await nextTurn();
        }
      }
    }
  }

  async readingSeries(query: SeriesQuery = {}): Promise<SeriesKey[]> {
    const out: SeriesKey[] = [];
    for await (const { node, device, tag } of this.series(query)) out.push({ node, device, tag });
    return out;
  }

  /** The series a query names, paged by (node, device, tag). */
  async *series(query: SeriesQuery & { tags?: string[] }): AsyncGenerator<SeriesRow> {
    const filter = {
      node: query.node ?? null,
      device: query.device ?? null,
      tags: query.tags && query.tags.length > 0 ? JSON.stringify(query.tags) : null,
    };
    // Node names are never empty, so the empty key sorts before every series.
    let after = { node0: "", device0: "", tag0: "" };
    for (;;) {
      const rows = this.seriesPage.all({ ...filter, ...after }) as SeriesRow[];
      for (const r of rows) yield r;
      const last = rows.at(-1);
      if (!last || rows.length < PAGE) return;
      after = { node0: last.node, device0: last.device, tag0: last.tag };
      await nextTurn();
    }
  }
}
