/**
 * The readings model: one row per record of a decoded chunk. Every reading the store
 * holds came from exactly one (node, chunk id) and one sequence number in it; a resent
 * chunk adds none.
 */

/** A reading's typed value; 64-bit integers are bigints (exact), arrays are numeric or boolean. */
export type ReadingValue =
  | number
  | bigint
  | boolean
  | string
  | readonly number[]
  | readonly bigint[]
  | readonly boolean[]
  | null;

export interface Reading {
  node: string;
  stream: string;
  device: string;
  tag: string;
  /** ms since the epoch, as the producer stamped it (it may be far off: see README). */
  ts: number;
  value: ReadingValue;
  /** `good`, `uncertain`, or a bad-quality code. */
  quality: string;
  /** The source's status name when it is not plain Good (OPC-UA), else absent. */
  status?: string;
  unit?: string;
  /** The record's sequence number in its stream. */
  seq: number;
  /**
   * Fields of the record the model has no column for (the OPC-UA server time, an outage's
   * bounds, fields a later collector adds), by name; absent when there are none. 64-bit
   * integers are numbers when exact in a double, else decimal strings.
   */
  extra?: Record<string, unknown>;
}

export type Aggregate = "avg" | "min" | "max" | "last" | "count";

/** Which readings: `from` inclusive, `to` exclusive, ms since the epoch. */
export interface ReadingsQuery {
  node?: string;
  device?: string;
  /** Any of these tags; all tags when absent or empty. */
  tags?: string[];
  from: number;
  to: number;
  /** Include readings whose quality is not `good` (default: good only). */
  anyQuality?: boolean;
}

/**
 * Buckets of `stepMs` aligned to the epoch; aggregates are over numeric values only
 * (float64, int64, uint64, and booleans as 0/1), as doubles.
 */
export interface AggregateQuery extends ReadingsQuery {
  stepMs: number;
  agg: Aggregate;
}

/** One bucket of one series: `ts` is the bucket's start. */
export interface AggregatePoint {
  node: string;
  device: string;
  tag: string;
  unit?: string;
  ts: number;
  /** The aggregate; `last` is the value with the highest (ts, seq); null for a float NaN. */
  value: number | null;
  /** Numeric readings in the bucket. */
  count: number;
}

/**
 * What a store answers about readings. Both iterate in (node, device, tag, ts, seq)
 * order and stream from the database: a range is never held in memory whole.
 */
export interface ReadingsSource {
  /**
   * The readings a page at a time (up to thousands each, never empty): a day of a tag
   * costs a few statements and awaits, not one per reading.
   */
  readingPages(query: ReadingsQuery): AsyncIterable<readonly Reading[]>;
  aggregateReadings(query: AggregateQuery): AsyncIterable<AggregatePoint>;
  /** The series that have readings, in (node, device, tag) order (a picker's list). */
  readingSeries(query?: SeriesQuery): Promise<SeriesKey[]>;
}

/** One series: a tag of a device of a node. */
export interface SeriesKey {
  node: string;
  device: string;
  tag: string;
}

export interface SeriesQuery {
  node?: string;
  device?: string;
}
