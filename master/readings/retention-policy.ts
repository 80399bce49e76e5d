import { DurationSyntaxError, parseDuration } from "../../common/index.js";
import { InvalidRequestError } from "../errors.js";

/** A duration that never runs out: nothing of that kind is ever deleted. */
export const FOREVER = Number.POSITIVE_INFINITY;

/** The stream name that stands for every stream the policy does not name. */
export const DEFAULT_STREAM = "*";

/** How long one stream's readings are kept, in ms (FOREVER: never deleted). */
export interface StreamRetention {
  /** Raw readings, by their time stamp. */
  rawMs: number;
  /** 1-minute rollups, by the minute's end; never shorter than `rawMs`. */
  rollupMs: number;
}

export interface RetentionPolicy {
  /** By stream name; `*` applies to every stream not named (and is always present). */
  streams: Readonly<Record<string, StreamRetention>>;
  /** Decoded chunk bodies kept this long after they were received, for replay; 0: dropped at decode. */
  keepChunksMs: number;
}

/** Without flags the master deletes nothing: raw readings and rollups forever, bodies dropped at decode. */
export const KEEP_EVERYTHING: RetentionPolicy = {
  streams: { [DEFAULT_STREAM]: { rawMs: FOREVER, rollupMs: FOREVER } },
  keepChunksMs: 0,
};

const DAY_MS = 86_400_000;

/** What `stream`'s readings are kept for. */
export function retentionOf(policy: RetentionPolicy, stream: string): StreamRetention {
  return (
    policy.streams[stream] ??
    policy.streams[DEFAULT_STREAM] ??
    (KEEP_EVERYTHING.streams[DEFAULT_STREAM] as StreamRetention)
  );
}

/** Whether the policy ever deletes anything (the retention job has work to do). */
export function deletesAnything(policy: RetentionPolicy): boolean {
  return (
    policy.keepChunksMs > 0 ||
    Object.values(policy.streams).some((r) => r.rawMs !== FOREVER || r.rollupMs !== FOREVER)
  );
}

/**
 * The policy of `--retention STREAM:RAW:ROLLUP` (repeatable; `*` is every stream not
 * named; durations as `1d`, `36h`, or `forever`) and `--keep-chunks DAYS`. Streams not
 * covered keep everything. Throws E_MASTER_INVALID naming the flag and the part that
 * does not hold.
 */
export function parseRetention(specs: readonly string[], keepChunksDays?: string): RetentionPolicy {
  const streams: Record<string, StreamRetention> = { ...KEEP_EVERYTHING.streams };
  const named = new Set<string>();
  for (const spec of specs) {
    const fail = (why: string): never => {
      throw new InvalidRequestError(`--retention '${spec}': ${why}`);
    };
    // Durations hold no colon, so a stream name may.
    const parts = spec.split(":");
    if (parts.length < 3) fail("expected STREAM:RAW:ROLLUP (e.g. '*:30d:730d')");
    const rollupText = parts.pop() as string;
    const rawText = parts.pop() as string;
    const stream = parts.join(":");
    if (stream === "") fail("the stream is empty (use '*' for every stream)");
    if (named.has(stream)) fail(`stream '${stream}' is given twice`);
    named.add(stream);
    const rawMs = retentionDuration(rawText, "raw", fail);
    const rollupMs = retentionDuration(rollupText, "rollup", fail);
    if (rollupMs < rawMs)
      fail(
        `rollups (${rollupText}) must be kept at least as long as raw readings (${rawText}): aggregates older than the rollups would be answered from nothing`,
      );
    streams[stream] = { rawMs, rollupMs };
  }
  return { streams, keepChunksMs: keepChunks(keepChunksDays) };
}

function retentionDuration(text: string, what: string, fail: (why: string) => never): number {
  if (text === "forever") return FOREVER;
  let ms = 0;
  try {
    ms = parseDuration(text);
  } catch (err) {
    if (!(err instanceof DurationSyntaxError)) throw err;
    fail(`${what} '${text}' must be a duration (e.g. 36h, 30d) or 'forever'`);
  }
  if (ms < 60_000) fail(`${what} '${text}' must be at least 1m`);
  return ms;
}

function keepChunks(days: string | undefined): number {
  if (days === undefined) return 0;
  if (!/^\d+(\.\d+)?$/.test(days))
    throw new InvalidRequestError(
      `--keep-chunks '${days}': expected a number of days (e.g. 7; 0 drops bodies at decode)`,
    );
  return Math.round(Number(days) * DAY_MS);
}
