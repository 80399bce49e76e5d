import { MAX_INSTANT_MS } from "../../common/index.js";
import type { AggregatePoint, Reading, ReadingValue } from "./reading.js";
import { textValue } from "./reading-values.js";
import type { RowFormat } from "./text-stream.js";

export const CSV_READINGS_HEADER = ["ts", "node", "device", "tag", "value", "unit", "quality"];
export const CSV_AGGREGATES_HEADER = ["ts", "node", "device", "tag", "value", "unit", "count"];

const NEEDS_QUOTES = /[",\r\n]/;

/** One field as RFC 4180 writes it: quoted when it holds a quote, comma or line break. */
export function csvField(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));
/** The last day `csvTime` wrote (its first ms) and its date part: rows come in time order. */
let lastDay = Number.NaN;
let lastDate = "";

/**
 * A CSV time: ISO 8601 in UTC with milliseconds (as `Date.toISOString` writes it); ms
 * since the epoch when no date holds it. The date is made once per day written, the
 * time of day from digits at hand: a Date per row was a good part of a row's cost.
 */
export function csvTime(ms: number): string {
  if (!(Math.abs(ms) <= MAX_INSTANT_MS)) return String(ms);
  if (!Number.isInteger(ms)) return new Date(ms).toISOString();
  const inDay = ((ms % DAY_MS) + DAY_MS) % DAY_MS;
  const day = ms - inDay;
  if (day !== lastDay) {
    // The time of day `HH:mm:ss.sssZ` is the last 13 characters, whatever the year's width.
    lastDate = new Date(day).toISOString().slice(0, -13);
    lastDay = day;
  }
  const h = Math.floor(inDay / 3_600_000);
  const m = Math.floor(inDay / 60_000) % 60;
  const s = Math.floor(inDay / 1000) % 60;
  return `${lastDate}${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[s]}.${THREE_DIGITS[inDay % 1000]}Z`;
}

function line(fields: readonly string[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

/** A value's field: numbers never need quotes. */
function valueField(value: ReadingValue): string {
  return typeof value === "number" ? String(value) : csvField(textValue(value));
}

/**
 * RFC 4180 CSV (CRLF line ends, a header row), one row per reading. Values as
 * `textValue` writes them: 64-bit integers in full, arrays as JSON, null as empty.
 * Rows come a series at a time, mostly of one unit and quality: those fields are
 * quoted once per run, not per row.
 */
class CsvReadings implements RowFormat<Reading> {
  private node: string | undefined;
  private device: string | undefined;
  private tag: string | undefined;
  /** `,node,device,tag,` of the current series. */
  private series = "";
  private unit: string | undefined;
  private unitField = "";
  private quality = "";
  private qualityField = "";

  head(): string {
    return line(CSV_READINGS_HEADER);
  }

  row(r: Reading): string {
    if (r.node !== this.node || r.device !== this.device || r.tag !== this.tag) {
      this.node = r.node;
      this.device = r.device;
      this.tag = r.tag;
      this.series = `,${csvField(r.node)},${csvField(r.device)},${csvField(r.tag)},`;
    }
    if (r.unit !== this.unit) {
      this.unit = r.unit;
      this.unitField = csvField(r.unit ?? "");
    }
    if (r.quality !== this.quality) {
      this.quality = r.quality;
      this.qualityField = csvField(r.quality);
    }
    return `${csvTime(r.ts)}${this.series}${valueField(r.value)},${this.unitField},${this.qualityField}\r\n`;
  }

  tail(): string {
    return "";
  }
}

export function csvReadings(): RowFormat<Reading> {
  return new CsvReadings();
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
