import type postgres from "postgres";
import { LOCK, lockExclusive } from "./locks.js";

const DAY_MS = 86_400_000;
/**
 * Days that get a partition of their own: from this many days before the master's clock
 * (late readings, a backlog forwarded after an outage)…
 */
export const PARTITION_DAYS_BEHIND = 31;
/** …to this many ahead (a producer's clock a little fast; beyond a day it is suspect). */
export const PARTITION_DAYS_AHEAD = 2;

/** The start (ms) of the UTC day holding `ts`. */
export function dayOf(ts: number): number {
  return ts - (((ts % DAY_MS) + DAY_MS) % DAY_MS);
}

/** `readings_p20260131`: the partition of the day starting at `day`. */
export function partitionName(day: number): string {
  return `readings_p${new Date(day).toISOString().slice(0, 10).replaceAll("-", "")}`;
}

/** The day (its start, ms) a partition name stands for; undefined for any other name. */
export function partitionDay(name: string): number | undefined {
  const m = /^readings_p(\d{4})(\d{2})(\d{2})$/.exec(name);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : undefined;
}

/**
 * Daily partitions of `readings` (ts in ms, ranges [day, day + 1 day)), made on demand by
 * the writer inside its own transaction, for days within the window around `now` only:
 * a reading stamped 1970 or 2300 goes to `readings_default` and never makes a partition
 * of its own. Making one takes the partitions lock (two writers never race on it) and
 * moves that day's rows out of the default partition (there from before the day entered
 * the window), then attaches it. The days known to exist are cached; a transaction that
 * rolls back forgets the ones it made.
 */
export class Partitions {
  private readonly known = new Set<number>();
  private made: number[] = [];

  /** Makes the partitions the readings at `times` need (call inside the writing transaction). */
  async ensure(tx: postgres.ISql, times: Iterable<number>, now: number): Promise<void> {
    const lo = dayOf(now) - PARTITION_DAYS_BEHIND * DAY_MS;
    const hi = dayOf(now) + PARTITION_DAYS_AHEAD * DAY_MS;
    const wanted = new Set<number>();
    for (const ts of times) {
      const day = dayOf(ts);
      if (day >= lo && day <= hi && !this.known.has(day)) wanted.add(day);
    }
    if (wanted.size === 0) return;
    await lockExclusive(tx, LOCK.partitions);
    for (const day of [...wanted].sort((a, b) => a - b)) {
      await this.make(tx, day);
      this.known.add(day);
      this.made.push(day);
    }
  }

  committed(): void {
    this.made = [];
  }

  /** Retention dropped the day's partition. */
  forget(day: number): void {
    this.known.delete(day);
  }

  rolledBack(): void {
    for (const day of this.made) this.known.delete(day);
    this.made = [];
  }

  private async make(tx: postgres.ISql, day: number): Promise<void> {
    const name = partitionName(day);
    const [exists] = await tx`SELECT to_regclass(${name}) IS NOT NULL AS yes`;
    if (exists?.yes) return;
    const end = day + DAY_MS;
    const table = tx(name);
    await tx`CREATE TABLE ${table} (LIKE readings INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`;
    await tx`WITH moved AS (DELETE FROM readings_default WHERE ts >= ${day} AND ts < ${end} RETURNING *)
      INSERT INTO ${table} SELECT * FROM moved`;
    // Bounds are literals: DDL takes no parameters.
    await tx.unsafe(
      `ALTER TABLE readings ATTACH PARTITION ${name} FOR VALUES FROM (${day}) TO (${end})`,
    );
  }
}
