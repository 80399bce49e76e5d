import type { AggregatePoint, Reading } from "./reading.js";
import {
  type JsonValue,
  jsonValue,
  type ValueType,
  valueFromJson,
  valueType,
} from "./reading-values.js";
import type { RowFormat } from "./text-stream.js";

/** One reading as an NDJSON line holds it: every field, and `type` to read `value` by. */
export interface NdjsonReading {
  ts: number;
  node: string;
  stream: string;
  device: string;
  tag: string;
  type: ValueType;
  value: JsonValue;
  unit?: string;
  quality: string;
  status?: string;
  seq: number;
  /** Fields of the record the model has no column for (see `Reading.extra`). */
  extra?: Record<string, unknown>;
}

/** One JSON object per line (`\n`), per reading: the export's and the CLI's typed stream. */
export function ndjsonReadings(): RowFormat<Reading> {
  return {
    head: () => "",
    row: (r) => {
      const line: NdjsonReading = {
        ts: r.ts,
        node: r.node,
        stream: r.stream,
        device: r.device,
        tag: r.tag,
        type: valueType(r.value),
        value: jsonValue(r.value),
        ...(r.unit !== undefined ? { unit: r.unit } : {}),
        quality: r.quality,
        ...(r.status !== undefined ? { status: r.status } : {}),
        seq: r.seq,
        ...(r.extra !== undefined ? { extra: r.extra } : {}),
      };
      return `${JSON.stringify(line)}\n`;
    },
    tail: () => "",
  };
}

/** One JSON object per line per bucket: `{ts, node, device, tag, unit?, value, count}`. */
export function ndjsonAggregates(): RowFormat<AggregatePoint> {
  return {
    head: () => "",
    row: (p) => `${JSON.stringify({ ...p, value: jsonValue(p.value) })}\n`,
    tail: () => "",
  };
}

/** A line of `ndjsonReadings` back into a reading, its value typed by `type`. */
export function readingFromNdjson(line: string): Reading {
  const r = JSON.parse(line) as NdjsonReading;
  const { type, value, ...rest } = r;
  return { ...rest, value: valueFromJson(value, type) };
}
