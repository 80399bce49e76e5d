import type { OutboxMessage } from "./store.js";

/** A `telemetry_outbox` row as the store hands it to the publisher (both stores' columns). */
export function outboxMessageOf(r: Record<string, unknown>): OutboxMessage {
  return {
    id: Number(r.id),
    node: String(r.node),
    stream: String(r.stream),
    chunkId: Number(r.chunk_id),
    part: Number(r.part),
    parts: Number(r.parts),
    readings: Number(r.readings),
    payload: r.payload as Buffer,
  };
}
