/** Pure: a descriptor duration (`500ms`, `5s`, `2m`; the schema checks the syntax) in ms. */
export function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m)$/.exec(text);
  if (!m) throw new RangeError(`duration '${text}' must be a number followed by ms, s or m`);
  const n = Number(m[1]);
  return m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000;
}
