import type { SeriesKey } from "../readings/reading.js";
import { NUMERIC_KINDS, VALUE_KIND } from "../readings/value-kind.js";

/** SQL and helpers the readings queries and the rollup queries share. */

export const NUMERIC = `kind IN (${NUMERIC_KINDS.join(", ")})`;
/** A numeric reading as a double; uint64 is kept as its two's complement (see README). */
export const AS_DOUBLE = `CASE WHEN kind = ${VALUE_KIND.uint64} AND value < 0
  THEN value + 18446744073709551616.0 ELSE CAST(value AS REAL) END`;

export interface SeriesRow extends SeriesKey {
  id: number;
}

/** The remainder of a floor division: buckets of times before 1970 are aligned too. */
export function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** Lets the event loop run (ingest commits, replies go out) between two pages. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
