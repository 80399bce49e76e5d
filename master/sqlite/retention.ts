import type Database from "better-sqlite3";
import { FOREVER, type RetentionPolicy } from "../readings/retention-policy.js";
import { MINUTE_MS } from "../readings/rollup.js";
import { type RetentionResult, startedRetention } from "../store.js";
import type { ReadingsWriter } from "./readings-writer.js";
import type { Row } from "./rows.js";

/** Rows deleted per transaction: each one holds the database for a few ms only. */
const BATCH = 4000;
/** Rows one statement deletes; a transaction runs several. */
const SLICE = 1000;
/** Series read per page while walking them. */
const SERIES_PAGE = 200;

interface SeriesRow {
  id: number;
  node: string;
  device: string;
  tag: string;
}

/** The cut-offs of one run: a stream's rows older than its cut-off go. */
interface Cutoffs {
  /** `CASE stream WHEN ? THEN ? … ELSE ? END` and its parameters; null cut-off: kept forever. */
  byStream: string;
  params: (string | number | null)[];
  /** The newest cut-off of any stream: the index range each statement scans. */
  newest: number;
}

/**
 * SQLite's retention: batched deletes, each transaction at most BATCH rows, the event
 * loop running between two (ingest commits there and its acks go out). Series are
 * walked by id: their raw readings past the cut-off by the primary key (series, ts),
 * then their rollups (series, minute); a series left with neither is deleted and
 * forgotten by the writer. Then decoded bodies kept past `--keep-chunks` are dropped.
 */
export class SqliteRetention {
  private readonly seriesPage: Database.Statement;
  private readonly pruneSeries: Database.Statement;
  private readonly dropBodies: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly writer: ReadingsWriter,
  ) {
    this.seriesPage = db.prepare(
      `SELECT id, node, device, tag FROM series WHERE id > ? ORDER BY id LIMIT ${SERIES_PAGE}`,
    );
    this.pruneSeries = db.prepare(`DELETE FROM series WHERE id = @id
      AND NOT EXISTS (SELECT 1 FROM readings WHERE series = @id)
      AND NOT EXISTS (SELECT 1 FROM reading_rollups WHERE series = @id)`);
    this.dropBodies = db.prepare(`UPDATE telemetry_chunks SET body = NULL WHERE rowid IN (
      SELECT rowid FROM telemetry_chunks WHERE state = 'decoded' AND body IS NOT NULL
        AND received_at < ? LIMIT ${SLICE})`);
  }

  async apply(
    policy: RetentionPolicy,
    now: number,
    signal?: AbortSignal,
  ): Promise<RetentionResult> {
    const result = startedRetention();
    const work = this.work(policy, now, result);
    let done = false;
    const batch = this.db.transaction(() => {
      for (let budget = BATCH; budget > 0; ) {
        const step = work.next();
        if (step.done) {
          done = true;
          return;
        }
        budget -= step.value;
      }
    });
    for (;;) {
      batch.immediate();
      if (done) {
        result.complete = true;
        return result;
      }
      if (signal?.aborted) return result;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** The run as steps, each yielding its cost in rows (at least 1: visiting a series costs too). */
  private *work(policy: RetentionPolicy, now: number, result: RetentionResult): Generator<number> {
    const raw = cutoffs(policy, (r) => (r.rawMs === FOREVER ? null : now - r.rawMs));
    // A minute goes once all of it is past the cut-off.
    const rollup = cutoffs(policy, (r) =>
      r.rollupMs === FOREVER ? null : now - r.rollupMs - MINUTE_MS + 1,
    );
    const deleteReadings = raw && this.deleting("readings", "ts", raw);
    const deleteRollups = rollup && this.deleting("reading_rollups", "minute", rollup);
    if (deleteReadings || deleteRollups) {
      for (const s of this.allSeries()) {
        let touched = false;
        for (const [del, what] of [
          [deleteReadings, "readings"],
          [deleteRollups, "rollups"],
        ] as const) {
          if (!del) continue;
          for (;;) {
            const n = del.run(s.id).changes;
            result[what] += n;
            touched ||= n > 0;
            yield Math.max(n, 1);
            if (n < SLICE) break;
          }
        }
        if (touched && this.pruneSeries.run({ id: s.id }).changes > 0) {
          result.series++;
          this.writer.forgetSeries(s.node, s.device, s.tag);
        }
      }
    }
    if (policy.keepChunksMs > 0) {
      for (;;) {
        const n = this.dropBodies.run(now - policy.keepChunksMs).changes;
        result.chunkBodies += n;
        yield Math.max(n, 1);
        if (n < SLICE) break;
      }
    }
  }

  /** Deletes up to SLICE rows of one series past their stream's cut-off. */
  private deleting(
    table: "readings" | "reading_rollups",
    time: "ts" | "minute",
    c: Cutoffs,
  ): { run(series: number): Database.RunResult } {
    const key = table === "readings" ? "series, ts, seq, chunk_id" : "series, minute, stream";
    const statement = this.db.prepare(`DELETE FROM ${table} WHERE (${key}) IN (
      SELECT ${key} FROM ${table} WHERE series = ? AND ${time} < ? AND ${time} < ${c.byStream}
      LIMIT ${SLICE})`);
    return { run: (series) => statement.run(series, c.newest, ...c.params) };
  }

  private *allSeries(): Generator<SeriesRow> {
    let after = -1;
    for (;;) {
      const rows = this.seriesPage.all(after) as Row[] as unknown as SeriesRow[];
      yield* rows;
      const last = rows.at(-1);
      if (!last || rows.length < SERIES_PAGE) return;
      after = last.id;
    }
  }
}

/** Each stream's cut-off as SQL, or null when the policy deletes nothing of this kind. */
function cutoffs(
  policy: RetentionPolicy,
  cutoff: (r: RetentionPolicy["streams"][string]) => number | null,
): Cutoffs | null {
  const { "*": fallback, ...named } = policy.streams;
  const defaultCut = fallback ? cutoff(fallback) : null;
  const entries = Object.entries(named).map(([stream, r]) => [stream, cutoff(r)] as const);
  const finite = [defaultCut, ...entries.map(([, c]) => c)].filter((c): c is number => c !== null);
  if (finite.length === 0) return null;
  return {
    byStream:
      entries.length === 0
        ? "?"
        : `(CASE stream ${entries.map(() => "WHEN ? THEN ?").join(" ")} ELSE ? END)`,
    params: [...entries.flat(), defaultCut],
    newest: Math.max(...finite),
  };
}
