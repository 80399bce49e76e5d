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
