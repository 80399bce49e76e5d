import type { Totals } from "./checkpoint.js";
import type { StreamState } from "./stream-state.js";

/**
 * The buffer's metrics as a plain snapshot object; the agent exports them (Prometheus
 * comes with a later component). Counters are totals since the buffer directory was
 * created where they are persisted in the checkpoint (drops, corruption, delivery) and
 * since this process opened it otherwise (appends, retries).
 */
export interface StreamMetrics {
  backlogChunks: number;
  backlogRecords: number;
  backlogBytes: number;
  /** Age of the oldest undelivered record's chunk, ms; 0 when nothing waits. */
  oldestUndeliveredAgeMs: number;
}

export interface BufferMetrics extends StreamMetrics {
  appendedRecords: number;
  appendedBytes: number;
  /** Records per second over the last 10 s. */
  appendRate: number;
  deliveredChunks: number;
  deliveredRecords: number;
  deliverRate: number;
  /** Failed sends (each retried). */
  retries: number;
  droppedChunks: number;
  droppedRecords: number;
  corruptChunks: number;
  lostRecords: number;
  /** Loss events not yet acknowledged by the sink. */
  pendingLossEvents: number;
  streams: Record<string, StreamMetrics>;
}

/** Counters of this process that the checkpoint does not keep. */
export interface ProcessCounters {
  appendedRecords: number;
  appendedBytes: number;
  appendRate: number;
  deliverRate: number;
  retries: number;
  pendingLossEvents: number;
}

function streamBacklog(st: StreamState, now: number): StreamMetrics {
  const m: StreamMetrics = {
    backlogChunks: 0,
    backlogRecords: 0,
    backlogBytes: 0,
    oldestUndeliveredAgeMs: 0,
  };
  for (const c of st.sealed) {
    m.backlogChunks++;
    m.backlogRecords += c.records;
    m.backlogBytes += c.bytes;
  }
  const open = st.active?.records ? st.active : undefined;
  if (open) {
    m.backlogChunks++;
    m.backlogRecords += open.records;
    m.backlogBytes += open.bytes;
  }
  const oldest = st.sealed[0]?.createdAt ?? open?.createdAt;
  if (oldest !== undefined) m.oldestUndeliveredAgeMs = Math.max(0, now - oldest);
  return m;
}

export function collectMetrics(
  streams: Iterable<StreamState>,
  totals: Totals,
  counters: ProcessCounters,
  now = Date.now(),
): BufferMetrics {
  const perStream: Record<string, StreamMetrics> = {};
  const all: StreamMetrics = {
    backlogChunks: 0,
    backlogRecords: 0,
    backlogBytes: 0,
    oldestUndeliveredAgeMs: 0,
  };
  for (const st of streams) {
    const m = streamBacklog(st, now);
    perStream[st.name] = m;
    all.backlogChunks += m.backlogChunks;
    all.backlogRecords += m.backlogRecords;
    all.backlogBytes += m.backlogBytes;
    all.oldestUndeliveredAgeMs = Math.max(all.oldestUndeliveredAgeMs, m.oldestUndeliveredAgeMs);
  }
  return { ...all, ...totals, ...counters, streams: perStream };
}
