import { timeTrust } from "./clock.js";
import type { DecodedRecord } from "./record-reader.js";
import { type RetentionPolicy, retentionOf } from "./retention-policy.js";
import {
  MINUTE_MS,
  mergeRollups,
  minuteOf,
  numericValue,
  type RollupState,
  rollupOf,
} from "./rollup.js";

/** One minute of one (device, tag) of a chunk, rolled up. */
export interface ChunkMinute {
  device: string;
  tag: string;
  minute: number;
  state: RollupState;
}

/** What a store keeps of a decoded chunk's readings. */
export interface KeptReadings {
  /** Stored raw. */
  raw: DecodedRecord[];
  /** The chunk's share of each minute, to merge into the stored rollups. */
  minutes: ChunkMinute[];
  /** Readings received long after their time, or at an impossible one (all, kept raw or not). */
  late: number;
  suspect: number;
  /** Readings past their stream's raw retention on arrival: not stored raw. */
  expired: number;
}

/**
 * The retention policy applied to a chunk's readings as they arrive, `now` being when
 * (the chunk's `receivedAt`, or the schema's arrival for a chunk that awaited it): a
 * reading already past its stream's raw retention is not kept raw but counted expired;
 * a good numeric one is rolled up into its minute unless that minute is past the rollup
 * retention too. The same for every store.
 */
export function keptReadings(
  chunk: { stream: string; chunkId: number; receivedAt: number },
  rows: readonly DecodedRecord[],
  policy: RetentionPolicy,
  now: number,
): KeptReadings {
  const retention = retentionOf(policy, chunk.stream);
  const rawFrom = now - retention.rawMs;
  const rollupFrom = now - retention.rollupMs;
  const kept: KeptReadings = { raw: [], minutes: [], late: 0, suspect: 0, expired: 0 };
  const minutes = new Map<string, ChunkMinute>();
  for (const r of rows) {
    const trust = timeTrust(r.ts, chunk.receivedAt);
    if (trust === "late") kept.late++;
    else if (trust === "suspect") kept.suspect++;
    if (r.ts < rawFrom) kept.expired++;
    else kept.raw.push(r);
    const minute = minuteOf(r.ts);
    const value = r.quality === "good" ? numericValue(r.kind, r.value) : undefined;
    if (value === undefined || minute + MINUTE_MS <= rollupFrom) continue;
    const key = `${r.device}\0${r.tag}\0${minute}`;
    const one = rollupOf(value, r.ts, r.seq, chunk.chunkId, r.unit);
    const span = minutes.get(key);
    if (span) span.state = mergeRollups(span.state, one);
    else minutes.set(key, { device: r.device, tag: r.tag, minute, state: one });
  }
  kept.minutes = [...minutes.values()];
  return kept;
}
