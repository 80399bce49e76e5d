import { Quality } from "./quality.js";
import type { TagValue } from "./record.js";

/** Arrays longer than this are `too_large` unless a tag sets its own `maxArrayLength`. */
export const DEFAULT_MAX_ARRAY_LENGTH = 1024;

/** The source's verdict on a sample: its class, and its name when it is not plain Good. */
export interface SourceStatus {
  severity: "good" | "uncertain" | "bad";
  /** Unset for plain Good (Modbus: every answered read); else e.g. `GoodClamped`, `Good#Overflow`. */
  name?: string;
}

export const PLAIN_GOOD: SourceStatus = { severity: "good" };

export type ArrayValue = number[] | bigint[] | boolean[];

/** What an input read for a tag, before the one mapping to value, quality and status. */
export type Sample =
  | { kind: "value"; value: Exclude<TagValue, ArrayValue | null> }
  /** An array, converted only once its length is within the limit. */
  | { kind: "array"; length: number; items: () => ArrayValue }
  /** The source holds no value (OPC-UA Null variant). */
  | { kind: "empty" }
  /** A type the record cannot hold (structure, string array, matrix…), by its source name. */
  | { kind: "unsupported"; dataType: string };

/** A record's value, quality and `status`. */
export interface Reading {
  value: TagValue;
  quality: string;
  status?: string;
}

function nonFinite(n: unknown): string | undefined {
  return typeof n === "number" && !Number.isFinite(n) ? String(n) : undefined;
}

function withStatus(value: TagValue, quality: string, status: string | undefined): Reading {
  return status === undefined ? { value, quality } : { value, quality, status };
}

/**
 * The one mapping from a sample and its source status to a record, shared by every
 * input (the README's quality table). Bad has no value and takes the status name as
 * quality; a value that cannot be recorded (NaN/±Infinity, unsupported type, an array
 * above `maxArrayLength`) has no value and a bad quality saying why, with `status`
 * giving the detail; otherwise the value is kept, `good` or `uncertain` by class.
 */
export function readingOf(
  sample: Sample,
  status: SourceStatus = PLAIN_GOOD,
  maxArrayLength = DEFAULT_MAX_ARRAY_LENGTH,
): Reading {
  if (status.severity === "bad") return withStatus(null, status.name ?? "Bad", status.name);
  switch (sample.kind) {
    case "empty":
      return withStatus(null, Quality.noValue, status.name);
    case "unsupported":
      return { value: null, quality: Quality.badType, status: sample.dataType };
    case "array": {
      if (sample.length > maxArrayLength) {
        return {
          value: null,
          quality: Quality.tooLarge,
          status: `${sample.length} elements > ${maxArrayLength}`,
        };
      }
      const items = sample.items();
      const bad = (items as unknown[]).findIndex((v) => nonFinite(v) !== undefined);
      if (bad !== -1) {
        return { value: null, quality: Quality.badType, status: `${items[bad]} at [${bad}]` };
      }
      return kept(items, status);
    }
    case "value": {
      const bad = nonFinite(sample.value);
      if (bad !== undefined) return { value: null, quality: Quality.badType, status: bad };
      return kept(sample.value, status);
    }
  }
}

function kept(value: TagValue, status: SourceStatus): Reading {
  const quality = status.severity === "uncertain" ? Quality.uncertain : Quality.good;
  return withStatus(value, quality, status.name);
}
