import type postgres from "postgres";
import type { BufferBacklog } from "../../protocol/index.js";
import {
  nodeBacklogs,
  recordsPerSecond,
  type TelemetryStatus,
  THROUGHPUT_WINDOW_MS,
} from "../status/telemetry-status.js";

/**
 * The status page's telemetry as the database holds it, the same on every master sharing
 * it (see MasterStore.shared): records/s from the chunks received within the window
 * (`telemetry_chunks_by_time`), per-node totals from `node_telemetry` (kept by ingest in
 * the statement storing the chunk rows), backlogs from each instance's last report.
 * Three small reads, pipelined; none scans the chunk table.
 */
export async function selectTelemetryStatus(
  sql: postgres.Sql,
  now: number,
): Promise<TelemetryStatus> {
  const [[recent], totals, buffers] = await Promise.all([
    sql`SELECT coalesce(sum(records), 0)::int8 AS records FROM telemetry_chunks
      WHERE received_at >= ${now - THROUGHPUT_WINDOW_MS}`,
    sql`SELECT node, chunks, records, last_chunk_at FROM node_telemetry ORDER BY node`,
    sql`SELECT node, name, buffer FROM instances WHERE buffer IS NOT NULL ORDER BY node, name`,
  ]);
  const byNode = new Map<string, Map<string, BufferBacklog>>();
  for (const r of buffers) {
    const node = String(r.node);
    const mine = byNode.get(node) ?? new Map<string, BufferBacklog>();
    mine.set(String(r.name), r.buffer as BufferBacklog);
    byNode.set(node, mine);
  }
  return {
    recordsPerSecond: recordsPerSecond(Number(recent?.records ?? 0)),
    nodes: Object.fromEntries(
      totals.map((t) => [
        String(t.node),
        {
          records: Number(t.records),
          chunks: Number(t.chunks),
          lastChunkAt: Number(t.last_chunk_at),
        },
      ]),
    ),
    backlog: nodeBacklogs(byNode),
  };
}
