import type postgres from "postgres";

/**
 * Transaction-scoped advisory locks, two-key form: the first key names Outpost (so other
 * applications sharing the database keep theirs), the second what is locked.
 */
const OUTPOST = 0x6f757470; // "outp"

export const LOCK = {
  /** Migrations: two masters starting on one database migrate once. */
  migrate: 1,
  /** Placement: capacity read and placement written by one caller at a time. */
  placement: 2,
  /**
   * Schemas: ingest holds it shared, `addSchema` exclusive, so a chunk is never judged
   * "awaiting its schema" by an ingest that commits after the schema's decode ran.
   */
  schemas: 3,
  /** Readings partitions: created by one writer at a time. */
  partitions: 4,
  /**
   * Series: writers hold it shared while they use series ids, retention exclusive while it
   * deletes an empty series, so no reading is written under an id being deleted.
   */
  series: 5,
} as const;

export async function lockExclusive(tx: postgres.ISql, which: number): Promise<void> {
  await tx`SELECT pg_advisory_xact_lock(${OUTPOST}, ${which})`;
}

export async function lockShared(tx: postgres.ISql, which: number): Promise<void> {
  await tx`SELECT pg_advisory_xact_lock_shared(${OUTPOST}, ${which})`;
}
