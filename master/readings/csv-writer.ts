import { MAX_INSTANT_MS } from "../../common/index.js";
import type { AggregatePoint, Reading } from "./reading.js";
import { textValue } from "./reading-values.js";
import type { RowFormat } from "./text-stream.js";

export const CSV_READINGS_HEADER = ["ts", "node", "device", "tag", "value", "unit", "quality"];
export const CSV_AGGREGATES_HEADER = ["ts", "node", "device", "tag", "value", "unit", "count"];

const NEEDS_QUOTES = /[",\r\n]/;

/** One field as RFC 4180 writes it: quoted when it holds a quote, comma or line break. */
export function csvField(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A CSV time: ISO 8601 in UTC with milliseconds; ms since the epoch when no date holds it. */
export function csvTime(ms: number): string {
  return Math.abs(ms) <= MAX_INSTANT_MS ? new Date(ms).toISOString() : String(ms);
}

function line(fields: readonly string[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

/**
 * RFC 4180 CSV (CRLF line ends, a header row), one row per reading. Values as
 * `textValue` writes them: 64-bit integers in full, arrays as JSON, null as empty.
 */
export function csvReadings(): RowFormat<Reading> {
  return {
    head: () => line(CSV_READINGS_HEADER),
    row: (r) =>
      line([csvTime(r.ts), r.node, r.device, r.tag, textValue(r.value), r.unit ?? "", r.quality]),
    tail: () => "",
  };
}

/** One row per bucket: its start, the aggregate (empty when none) and how many readings. */
export function csvAggregates(): RowFormat<AggregatePoint> {
  return {
    head: () => line(CSV_AGGREGATES_HEADER),
    row: (p) =>
      line([
        csvTime(p.ts),
        p.node,
        p.device,
        p.tag,
        textValue(p.value),
        p.unit ?? "",
        String(p.count),
      ]),
    tail: () => "",
  };
}
