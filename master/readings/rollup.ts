import type { Aggregate } from "./reading.js";
import { type StoredValue, VALUE_KIND } from "./value-kind.js";

/** Rollups are kept per minute of a series; buckets of a multiple of this can be answered from them. */
export const MINUTE_MS = 60_000;

/**
 * What a span of one series' good numeric readings reduces to: enough to answer every
 * aggregate of the span, and to merge with the span next to it (or a late reading) in
 * any order. A float NaN is a reading with no number: it is not counted and leaves
 * min, max and sum alone, but it can be the last reading (then `last` is NaN).
 */
export interface RollupState {
  /** Readings that are numbers (NaN not counted). */
  count: number;
  /** Null while `count` is 0. */
  min: number | null;
  max: number | null;
  sum: number;
  /** The reading with the highest (ts, seq, chunk id): its time, key, value and unit. */
  lastTs: number;
  lastSeq: number;
  lastChunk: number;
  last: number;
  unit: string | null;
}

/** 2^64, exact as a double. */
const TWO_TO_64 = 2 ** 64;

/** The minute holding `ts` (also before 1970). */
export function minuteOf(ts: number): number {
  return ts - (((ts % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
}

/**
 * A numeric reading as a double, exactly as the stores' SQL aggregates take it (uint64
 * kept as its two's complement, 2^64 added back to negatives, so the rounding is the
 * same); undefined for a value aggregates do not take.
 */
export function numericValue(kind: number, value: StoredValue): number | undefined {
  switch (kind) {
    case VALUE_KIND.float64:
      return value as number;
    case VALUE_KIND.int64:
      return Number(value as bigint);
    case VALUE_KIND.uint64: {
      const signed = BigInt.asIntN(64, BigInt(value as bigint));
      return signed < 0n ? Number(signed) + TWO_TO_64 : Number(signed);
    }
    case VALUE_KIND.bool:
      return value === true || value === 1 || value === 1n ? 1 : 0;
    default:
      return undefined;
  }
}

/** The state of one reading. */
export function rollupOf(
  value: number,
  ts: number,
  seq: number,
  chunk: number,
  unit: string | null,
): RollupState {
  const isNumber = !Number.isNaN(value);
  return {
    count: isNumber ? 1 : 0,
    min: isNumber ? value : null,
    max: isNumber ? value : null,
    sum: isNumber ? value : 0,
    lastTs: ts,
    lastSeq: seq,
    lastChunk: chunk,
    last: value,
    unit,
  };
}

/** Two spans as one; the order of merging does not matter (but for the sum's rounding). */
export function mergeRollups(a: RollupState, b: RollupState): RollupState {
  const later = isAfter(b, a) ? b : a;
  return {
    count: a.count + b.count,
    min: a.min === null ? b.min : b.min === null ? a.min : Math.min(a.min, b.min),
    max: a.max === null ? b.max : b.max === null ? a.max : Math.max(a.max, b.max),
    sum: a.sum + b.sum,
    lastTs: later.lastTs,
    lastSeq: later.lastSeq,
    lastChunk: later.lastChunk,
    last: later.last,
    unit: later.unit,
  };
}

/** The aggregate a span answers; null where a number is missing (no count, NaN), as raw answers. */
export function rollupAggregate(s: RollupState, agg: Aggregate): number | null {
  const value = {
    avg: s.count === 0 ? Number.NaN : s.sum / s.count,
    min: s.min,
    max: s.max,
    last: s.last,
    count: s.count,
  }[agg];
  return value === null || Number.isNaN(value) ? null : value;
}

function isAfter(a: RollupState, b: RollupState): boolean {
  if (a.lastTs !== b.lastTs) return a.lastTs > b.lastTs;
  if (a.lastSeq !== b.lastSeq) return a.lastSeq > b.lastSeq;
  return a.lastChunk > b.lastChunk;
}
