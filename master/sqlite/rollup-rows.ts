import type Database from "better-sqlite3";
import type { RollupState } from "../readings/rollup.js";
import type { Row } from "./rows.js";

export const ROLLUP_COLUMNS = "n, lo, hi, total, last_ts, last_seq, last_chunk, last_v, last_unit";

/** A `reading_rollups` row's state. SQLite keeps NaN as NULL: a NULL sum of counted numbers was NaN. */
export function toRollup(r: Row): RollupState {
  const count = Number(r.n);
  return {
    count,
    min: r.lo === null ? null : Number(r.lo),
    max: r.hi === null ? null : Number(r.hi),
    sum: r.total === null ? (count === 0 ? 0 : Number.NaN) : Number(r.total),
    lastTs: Number(r.last_ts),
    lastSeq: Number(r.last_seq),
    lastChunk: Number(r.last_chunk),
    last: r.last_v === null ? Number.NaN : Number(r.last_v),
    unit: typeof r.last_unit === "string" ? r.last_unit : null,
  };
}

/** Merges minutes into `reading_rollups`: read, merge, write back (in the caller's transaction). */
export class RollupRows {
  private readonly select: Database.Statement;
  private readonly upsert: Database.Statement;

  constructor(db: Database.Database) {
    this.select = db.prepare(`SELECT ${ROLLUP_COLUMNS} FROM reading_rollups
      WHERE series = ? AND minute = ? AND stream = ?`);
    this.upsert = db.prepare(`INSERT OR REPLACE INTO reading_rollups
      (series, minute, stream, ${ROLLUP_COLUMNS})
      VALUES (@series, @minute, @stream, @count, @min, @max, @sum, @lastTs, @lastSeq,
        @lastChunk, @last, @unit)`);
  }

  get(series: number, minute: number, stream: string): RollupState | undefined {
    const row = this.select.get(series, minute, stream) as Row | undefined;
    return row ? toRollup(row) : undefined;
  }

  put(series: number, minute: number, stream: string, s: RollupState): void {
    this.upsert.run({ series, minute, stream, ...s });
  }
}
