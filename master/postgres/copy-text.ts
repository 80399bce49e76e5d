import type { DecodedRecord } from "../readings/record-reader.js";
import { VALUE_KIND } from "../readings/value-kind.js";

/**
 * Values in COPY's text format: `\N` for NULL, backslash, tab, newline and carriage
 * return escaped in text, bytea as `\\x` and hex. A string holding NUL cannot be sent
 * (PostgreSQL's text has no NUL): the server refuses that row, and the writer keeps its
 * chunk raw as refused.
 */
export function copyText(v: string | null): string {
  if (v === null) return "\\N";
  return /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, escaped) : v;
}

export function copyNumber(v: number | bigint | null): string {
  return v === null ? "\\N" : String(v);
}

export function copyBytes(v: Uint8Array | null): string {
  if (v === null) return "\\N";
  return `\\\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex")}`;
}

function escaped(c: string): string {
  switch (c) {
    case "\t":
      return "\\t";
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    default:
      return "\\\\";
  }
}

/**
 * One row of `readings` in COPY's text format, in the column order of READING_COLUMNS;
 * `stream` already in COPY text (it is the same for a whole chunk).
 */
export function readingCopyLine(
  series: number | undefined,
  chunkId: number,
  stream: string,
  r: DecodedRecord,
): string {
  return `${series}\t${r.ts}\t${r.seq}\t${chunkId}\t${stream}\t${r.kind}\t${valueColumns(r)}\t${copyText(r.quality)}\t${copyText(r.status)}\t${copyText(r.unit)}\t${copyText(r.extra)}\n`;
}

export const READING_COLUMNS =
  "series, ts, seq, chunk_id, stream, kind, v_double, v_int, v_text, v_bytes, quality, status, unit, extra";

/** v_double, v_int, v_text, v_bytes of a reading: the one its kind uses, the others NULL. */
function valueColumns(r: DecodedRecord): string {
  const v = r.value;
  switch (r.kind) {
    case VALUE_KIND.float64:
      return `${copyNumber(v as number)}\t\\N\t\\N\t\\N`;
    case VALUE_KIND.int64:
      return `\\N\t${copyNumber(v as bigint)}\t\\N\t\\N`;
    case VALUE_KIND.uint64:
      // Two's complement, as SQLite keeps it: bigint holds 64 bits, not 2^64-1.
      return `\\N\t${copyNumber(BigInt.asIntN(64, v as bigint))}\t\\N\t\\N`;
    case VALUE_KIND.bool:
      return `\\N\t${v ? 1 : 0}\t\\N\t\\N`;
    case VALUE_KIND.string:
      return `\\N\t\\N\t${copyText(v as string)}\t\\N`;
    case VALUE_KIND.null:
      return "\\N\t\\N\t\\N\t\\N";
    default:
      return `\\N\t\\N\t\\N\t${copyBytes(v as Uint8Array)}`;
  }
}
