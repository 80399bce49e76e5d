import { CodedRangeError } from "./errors.js";

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * The one duration grammar: a decimal number and a unit, `250ms`, `1.5s`, `2m`, `1h`,
 * `1d`. As a JSON Schema `pattern`, for every schema that takes a duration string.
 */
export const DURATION_PATTERN = "^[0-9]+(\\.[0-9]+)?(ms|s|m|h|d)$";

const DURATION = new RegExp(DURATION_PATTERN);

/** A duration string that is not in the grammar of `DURATION_PATTERN`. */
export class DurationSyntaxError extends CodedRangeError {
  readonly code = "E_DURATION";
  constructor(readonly input: string) {
    super(`duration '${input}' must be a number followed by ms, s, m, h or d (e.g. 250ms, 1.5s)`);
  }
}

/** Whether `text` is a duration in the grammar of `DURATION_PATTERN`. */
export function isDuration(text: string): boolean {
  return DURATION.test(text);
}

/**
 * Milliseconds of a duration, rounded to a whole ms: a string in the grammar, or a number
 * that already is milliseconds (config files may write either). Throws
 * `DurationSyntaxError` for any other string.
 */
export function parseDuration(duration: string | number): number {
  if (typeof duration === "number") return duration;
  const unit = DURATION.exec(duration)?.[2];
  if (unit === undefined) throw new DurationSyntaxError(duration);
  return Math.round(Number.parseFloat(duration) * (UNITS[unit] as number));
}
