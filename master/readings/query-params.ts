import {
  DurationSyntaxError,
  InstantSyntaxError,
  parseDuration,
  parseInstant,
} from "../../common/index.js";
import { InvalidRequestError } from "../errors.js";
import type { Aggregate, AggregateQuery, ReadingsQuery } from "./reading.js";

export const AGGREGATES: readonly Aggregate[] = ["avg", "min", "max", "last", "count"];

/** The window when the query gives no `from`: this long before `to`. */
export const DEFAULT_WINDOW_MS = 3_600_000;

/** Most `tag` parameters one query may name. */
export const MAX_TAGS = 100;

/** `GET /v1/readings`'s query as the framework hands it over (types checked, not meaning). */
export interface ReadingsParams {
  node?: string;
  device?: string;
  tag?: string | string[];
  from?: string;
  to?: string;
  step?: string;
  agg?: string;
  quality?: string;
}

/** What to read: raw readings, or buckets of `aggregate.stepMs` with `aggregate.agg`. */
export interface ReadingsRequest {
  query: ReadingsQuery;
  aggregate?: Pick<AggregateQuery, "stepMs" | "agg">;
}

/**
 * Turns the query's text into a typed request, or throws `InvalidRequestError` whose
 * message starts with the parameter at fault (`from: …`). `from`/`to` take the grammar of
 * `parseInstant` (relative times count back from `now`); `to` defaults to `now`, `from` to
 * DEFAULT_WINDOW_MS before `to`. `step` alone means `agg=avg`; `agg` needs a `step`.
 */
export function parseReadingsParams(params: ReadingsParams, now: number): ReadingsRequest {
  const to = params.to === undefined ? now : instant("to", params.to, now);
  const from =
    params.from === undefined ? to - DEFAULT_WINDOW_MS : instant("from", params.from, now);
  if (from >= to) {
    throw new InvalidRequestError(`from: must be before to (from ${iso(from)}, to ${iso(to)})`);
  }
  const tags = tagList(params.tag);
  if (params.quality !== undefined && params.quality !== "any" && params.quality !== "good") {
    throw new InvalidRequestError(
      `quality: must be 'good' (default) or 'any', got '${params.quality}'`,
    );
  }
  const query: ReadingsQuery = {
    ...(nonEmpty("node", params.node) ? { node: params.node } : {}),
    ...(nonEmpty("device", params.device) ? { device: params.device } : {}),
    ...(tags.length > 0 ? { tags } : {}),
    from,
    to,
    ...(params.quality === "any" ? { anyQuality: true } : {}),
  };
  if (params.step === undefined) {
    if (params.agg !== undefined) {
      throw new InvalidRequestError("agg: needs a step, the width of a bucket (e.g. step=1m)");
    }
    return { query };
  }
  const stepMs = step(params.step);
  const agg = params.agg ?? "avg";
  if (!isAggregate(agg)) {
    throw new InvalidRequestError(`agg: must be one of ${AGGREGATES.join(", ")}, got '${agg}'`);
  }
  return { query, aggregate: { stepMs, agg } };
}

function instant(name: string, text: string, now: number): number {
  try {
    return parseInstant(text, now);
  } catch (err) {
    if (err instanceof InstantSyntaxError) throw new InvalidRequestError(`${name}: ${err.message}`);
    throw err;
  }
}

function step(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (err) {
    if (err instanceof DurationSyntaxError) throw new InvalidRequestError(`step: ${err.message}`);
    throw err;
  }
  if (ms < 1) throw new InvalidRequestError(`step: must be at least 1ms, got '${text}'`);
  return ms;
}

function tagList(tag: string | string[] | undefined): string[] {
  const tags = tag === undefined ? [] : Array.isArray(tag) ? tag : [tag];
  if (tags.some((t) => t === "")) throw new InvalidRequestError("tag: must not be empty");
  const unique = [...new Set(tags)];
  if (unique.length > MAX_TAGS) {
    throw new InvalidRequestError(`tag: at most ${MAX_TAGS} tags, got ${unique.length}`);
  }
  return unique;
}

function nonEmpty(name: string, value: string | undefined): value is string {
  if (value === "") throw new InvalidRequestError(`${name}: must not be empty`);
  return value !== undefined;
}

function isAggregate(text: string): text is Aggregate {
  return (AGGREGATES as readonly string[]).includes(text);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
