import type { AggregatePoint, AggregateQuery, SeriesKey } from "./reading.js";
import { MINUTE_MS, mergeRollups, type RollupState, rollupAggregate } from "./rollup.js";

/**
 * Whether the 1-minute rollups answer `query` (every store answers the same queries from
 * them): buckets a whole number of minutes wide, good readings only, and a window holding
 * at least one whole minute.
 */
export function answersFromRollups(query: AggregateQuery): boolean {
  return (
    !query.anyQuality &&
    query.stepMs % MINUTE_MS === 0 &&
    ceilMinute(query.from) < floorMinute(query.to)
  );
}

/**
 * A series' buckets from its pieces in time order, each with its start: the minutes the
 * window cuts (first, last) as a store reads them raw, the whole ones as rolled up.
 */
export async function* rollupBuckets(
  s: SeriesKey,
  pieces: AsyncIterable<[number, RollupState]>,
  query: AggregateQuery,
): AsyncGenerator<AggregatePoint> {
  const step = query.stepMs;
  let bucket = 0;
  let state: RollupState | undefined;
  for await (const [at, piece] of pieces) {
    const start = at - (((at % step) + step) % step);
    if (state && start !== bucket) {
      yield point(s, bucket, state, query);
      state = undefined;
    }
    bucket = start;
    state = state ? mergeRollups(state, piece) : piece;
  }
  if (state) yield point(s, bucket, state, query);
}

export function ceilMinute(t: number): number {
  return -floorMinute(-t);
}

export function floorMinute(t: number): number {
  return Math.floor(t / MINUTE_MS) * MINUTE_MS;
}

function point(
  s: SeriesKey,
  ts: number,
  state: RollupState,
  query: AggregateQuery,
): AggregatePoint {
  return {
    node: s.node,
    device: s.device,
    tag: s.tag,
    ...(state.unit !== null ? { unit: state.unit } : {}),
    ts,
    value: rollupAggregate(state, query.agg),
    count: state.count,
  };
}
