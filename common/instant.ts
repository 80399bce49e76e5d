import { isDuration, parseDuration } from "./duration.js";
import { CodedRangeError } from "./errors.js";

/** Latest time a JS Date holds, ms since the epoch (ECMAScript's time value range). */
export const MAX_INSTANT_MS = 8.64e15;

/** A point in time that is none of the three forms `parseInstant` takes. */
export class InstantSyntaxError extends CodedRangeError {
  readonly code = "E_INSTANT";
  constructor(readonly input: string) {
    super(
      `expected an ISO 8601 time (2026-01-31T12:00:00Z), ms since the epoch (1769860800000) or a duration before now (10m, 2h, 1d), got '${input}'`,
    );
  }
}

/**
 * The one grammar for a point in time given by a person: an ISO 8601 date or date-time
 * (`2026-01-31`, `2026-01-31T12:00:00Z`; without a zone it is UTC for a date alone, the
 * local zone otherwise, as `Date.parse` reads it), whole milliseconds since the epoch
 * (`1769860800000`), or a duration before `now` (`10m`, the grammar of duration.ts).
 * Returns ms since the epoch; throws `InstantSyntaxError` for anything else, or a time a
 * Date cannot hold.
 */
export function parseInstant(text: string, now: number): number {
  let at = Number.NaN;
  if (/^\d{1,16}$/.test(text)) at = Number(text);
  else if (isDuration(text)) at = now - parseDuration(text);
  else if (/^\d{4}-\d{2}-\d{2}/.test(text)) at = Date.parse(text);
  if (!Number.isFinite(at) || Math.abs(at) > MAX_INSTANT_MS) throw new InstantSyntaxError(text);
  return at;
}
