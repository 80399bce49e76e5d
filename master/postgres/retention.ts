import type postgres from "postgres";
import { hasCode } from "../../common/errors.js";
import {
  FOREVER,
  type RetentionPolicy,
  type StreamRetention,
} from "../readings/retention-policy.js";
import { MINUTE_MS } from "../readings/rollup.js";
import { type RetentionResult, startedRetention } from "../store.js";
import { LOCK, lockExclusive } from "./locks.js";
import { partitionDay, partitionName } from "./partitions.js";
import type { PgReadingsWriter } from "./readings-writer.js";
import type { Row } from "./rows.js";

const DAY_MS = 86_400_000;
/** Rows one statement deletes (each statement its own short transaction). */
const SLICE = 1000;
/** Series read per page while walking them. */
const SERIES_PAGE = 200;
/**
 * How long retention waits for a lock ingest holds before it gives up and tries again:
 * while it waits, ingest queued behind it waits too, so the wait is kept short.
 */
const LOCK_TIMEOUT_MS = 100;
const LOCK_TRIES = 20;

/** Each stream's cut-off (null: never). */
interface Cutoffs {
  /** `CASE stream WHEN … END` taking `params` as $first, $first + 1, … */
  sql(first: number): string;
  params: (string | number | null)[];
  /** The newest cut-off of any stream. */
  newest: number;
}

/**
 * PostgreSQL's retention. Raw readings: a day partition lying wholly before the newest
 * cut-off whose every row is past its stream's cut-off is detached and dropped (counted
 * first, under a SHARE lock that holds back only ingest into that old day); a partition
 * still holding a row some stream keeps, the day the cut-off falls in, and the default
 * partition are deleted from by series, at most SLICE rows a statement. Then rollups by
 * series the same way, then series left with neither (under LOCK.series, so no writer
 * uses the id meanwhile), then kept chunk bodies. Every lock retention needs that ingest
 * also takes is asked for with a short lock_timeout and retried, so retention waits for
 * ingest, not the other way round.
 */
export class PgRetention {
  constructor(
    private readonly sql: postgres.Sql,
    private readonly writer: PgReadingsWriter,
  ) {}

  async apply(
    policy: RetentionPolicy,
    now: number,
    signal?: AbortSignal,
  ): Promise<RetentionResult> {
    const result = startedRetention();
    const raw = cutoffs(policy, (r) => (r.rawMs === FOREVER ? null : now - r.rawMs));
    // A minute goes once all of it is past the cut-off.
    const rollup = cutoffs(policy, (r) =>
      r.rollupMs === FOREVER ? null : now - r.rollupMs - MINUTE_MS + 1,
    );
    let dropped = false;
    if (raw) {
      await this.dropDetached();
      for (const day of await this.daysBefore(raw.newest)) {
        if (signal?.aborted) return result;
        const rows = await this.dropPartition(day, raw);
        if (rows === undefined) continue;
        result.readings += rows;
        dropped = true;
      }
    }
    if (raw || rollup) {
      const deleteReadings = raw && this.deleteReadings(raw);
      const deleteRollups = rollup && this.deleteRollups(rollup);
      let after = -1;
      for (;;) {
        const page = await this.sql`SELECT id FROM series WHERE id > ${after}
          ORDER BY id LIMIT ${SERIES_PAGE}`;
        const touched: number[] = [];
        for (const { id } of page) {
          let n = 0;
          for (const [del, what] of [
            [deleteReadings, "readings"],
            [deleteRollups, "rollups"],
          ] as const)
            for (let deleted = SLICE; del && deleted >= SLICE; ) {
              if (signal?.aborted) return result;
              deleted = await del(Number(id));
              result[what] += deleted;
              n += deleted;
            }
          if (n > 0 || dropped) touched.push(Number(id));
        }
        result.series += await this.pruneSeries(touched);
        const last = page.at(-1);
        if (!last || page.length < SERIES_PAGE) break;
        after = Number(last.id);
      }
    }
    if (policy.keepChunksMs > 0)
      for (let n = SLICE; n >= SLICE; ) {
        if (signal?.aborted) return result;
        n = (
          await this.sql`UPDATE telemetry_chunks SET body = NULL WHERE id = ANY(ARRAY(
            SELECT id FROM telemetry_chunks WHERE state = 'decoded' AND body IS NOT NULL
              AND received_at < ${now - policy.keepChunksMs} LIMIT ${SLICE}))`
        ).count;
        result.chunkBodies += n;
      }
    result.complete = true;
    return result;
  }

  /** The days of the attached day partitions that end at or before `cutoff`, oldest first. */
  private async daysBefore(cutoff: number): Promise<number[]> {
    const rows = await this.sql`SELECT c.relname FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass`;
    return rows
      .map((r) => partitionDay(String(r.relname)))
      .filter((day): day is number => day !== undefined && day + DAY_MS <= cutoff)
      .sort((a, b) => a - b);
  }

  /**
   * Detaches and drops the day's partition if no row in it is kept; returns how many rows
   * went, undefined if it stays (a row kept, or ingest held the locks every try).
   */
  private async dropPartition(day: number, raw: Cutoffs): Promise<number | undefined> {
    // Our own name (readings_pYYYYMMDD): safe in SQL text.
    const name = partitionName(day);
    const rows = await this.withLockTimeout(async (tx) => {
      // Rows of a kept stream may still arrive for this day: none while it is counted.
      await tx.unsafe(`LOCK TABLE ${name} IN SHARE MODE`);
      const [c] = await tx.unsafe(
        `SELECT count(*) AS n, count(*) FILTER (WHERE ts < ${raw.sql(1)}) AS gone FROM ${name}`,
        raw.params as postgres.ParameterOrJSON<never>[],
      );
      const n = Number(c?.n);
      if (n !== Number(c?.gone)) return undefined;
      await tx.unsafe(`ALTER TABLE readings DETACH PARTITION ${name}`);
      return n;
    });
    if (rows === undefined) return undefined;
    this.writer.partitionDropped(day);
    // Detached, the table is no part of readings: dropping it holds nothing ingest needs.
    await this.sql.unsafe(`DROP TABLE ${name}`);
    return rows;
  }

  /** Drops day partitions a run detached but did not get to drop (it was stopped between). */
  private async dropDetached(): Promise<void> {
    const rows = await this.sql`SELECT c.relname FROM pg_class c
      WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
        AND c.relname LIKE 'readings\\_p%' AND NOT c.relispartition`;
    for (const r of rows) {
      const name = String(r.relname);
      if (partitionDay(name) !== undefined) await this.sql.unsafe(`DROP TABLE ${name}`);
    }
  }

  /** Deletes up to about SLICE of a series' raw readings past their stream's cut-off (ties at the last time go too). */
  private deleteReadings(c: Cutoffs): (series: number) => Promise<number> {
    const text = `WITH doomed AS (SELECT ts FROM readings
        WHERE series = $1 AND ts < $2 AND ts < ${c.sql(3)} ORDER BY ts LIMIT ${SLICE})
      DELETE FROM readings WHERE series = $1 AND ts < $2 AND ts < ${c.sql(3)}
        AND ts <= (SELECT max(ts) FROM doomed)`;
    return async (series) =>
      (
        await this.sql.unsafe(text, [series, c.newest, ...c.params] as never[], {
          prepare: true,
        })
      ).count;
  }

  /** Deletes up to SLICE of a series' rollups past their stream's cut-off. */
  private deleteRollups(c: Cutoffs): (series: number) => Promise<number> {
    const text = `DELETE FROM reading_rollups WHERE ctid = ANY(ARRAY(SELECT ctid
      FROM reading_rollups WHERE series = $1 AND minute < $2 AND minute < ${c.sql(3)}
      LIMIT ${SLICE}))`;
    return async (series) =>
      (
        await this.sql.unsafe(text, [series, c.newest, ...c.params] as never[], {
          prepare: true,
        })
      ).count;
  }

  /** Deletes the series of `ids` left with neither readings nor rollups; returns how many. */
  private async pruneSeries(ids: number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const gone = await this.withLockTimeout(async (tx) => {
      await lockExclusive(tx, LOCK.series);
      const rows = await tx`DELETE FROM series s WHERE id = ANY(${ids}::int4[])
          AND NOT EXISTS (SELECT 1 FROM readings r WHERE r.series = s.id)
          AND NOT EXISTS (SELECT 1 FROM reading_rollups o WHERE o.series = s.id)
        RETURNING node, device, tag`;
      // Forgotten before the commit lets a writer take the lock again; other masters'
      // writers see the generation move.
      for (const r of rows as unknown as Row[])
        this.writer.seriesDeleted(String(r.node), String(r.device), String(r.tag));
      if (rows.length > 0) await tx`UPDATE series_generation SET n = n + 1`;
      return rows.length;
    });
    return gone ?? 0;
  }

  /**
   * `work` in a transaction whose lock waits end after LOCK_TIMEOUT_MS, tried again up to
   * LOCK_TRIES times; undefined when every try timed out.
   */
  private async withLockTimeout<T>(
    work: (tx: postgres.TransactionSql) => Promise<T>,
  ): Promise<T | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.sql.begin(async (tx) => {
          await tx.unsafe(`SET LOCAL lock_timeout = ${LOCK_TIMEOUT_MS}`);
          return work(tx);
        })) as T;
      } catch (err) {
        if (!hasCode(err, "55P03") || attempt === LOCK_TRIES) {
          if (hasCode(err, "55P03")) return undefined;
          throw err;
        }
        await new Promise((resolve) => setTimeout(resolve, LOCK_TIMEOUT_MS));
      }
    }
  }
}

/** Each stream's cut-off, or null when nothing of this kind is deleted. */
function cutoffs(
  policy: RetentionPolicy,
  cutoff: (r: StreamRetention) => number | null,
): Cutoffs | null {
  const { "*": fallback, ...named } = policy.streams;
  const defaultCut = fallback ? cutoff(fallback) : null;
  const entries = Object.entries(named).map(([stream, r]) => [stream, cutoff(r)] as const);
  const finite = [defaultCut, ...entries.map(([, c]) => c)].filter((c): c is number => c !== null);
  if (finite.length === 0) return null;
  return {
    sql: (first) => {
      let n = first;
      const whens = entries.map(() => `WHEN $${n++}::text THEN $${n++}::int8`).join(" ");
      return entries.length === 0 ? `$${n}::int8` : `(CASE stream ${whens} ELSE $${n}::int8 END)`;
    },
    params: [...entries.flat(), defaultCut],
    newest: Math.max(...finite),
  };
}
