import type postgres from "postgres";
import type { DecodeFailure, DecodeFailureQuery, ReadingCounts } from "../readings/health.js";
import type { StoredChunk, StoredLoss, TelemetryQuery } from "../store.js";
import { type Row, toChunk, toLoss } from "./rows.js";

/** Chunks matching `query`, oldest received first; bodies only when asked for. */
export async function selectChunks(sql: postgres.Sql, q: TelemetryQuery): Promise<StoredChunk[]> {
  const rows = await sql`SELECT node, chunk_id, stream, schema, created_at, first_seq, last_seq,
      records, compression, received_at${q.withBody ? sql`, body` : sql``}
    FROM telemetry_chunks WHERE ${filter(sql, q)}
    ORDER BY received_at, id LIMIT ${q.limit ?? 1000}`;
  return (rows as unknown as Row[]).map(toChunk);
}

/** Loss events matching `query`, oldest received first. */
export async function selectLosses(sql: postgres.Sql, q: TelemetryQuery): Promise<StoredLoss[]> {
  const rows = await sql`SELECT * FROM telemetry_losses WHERE ${filter(sql, q)}
    ORDER BY received_at, node, loss_id LIMIT ${q.limit ?? 1000}`;
  return (rows as unknown as Row[]).map(toLoss);
}

/** Chunks kept raw because they did not decode, newest first. */
export async function selectDecodeFailures(
  sql: postgres.Sql,
  q: DecodeFailureQuery,
): Promise<DecodeFailure[]> {
  const rows = await sql`SELECT node, chunk_id, stream, schema, error, received_at
    FROM telemetry_chunks WHERE state = 'failed' AND (${q.node ?? null}::text IS NULL OR node = ${q.node ?? null})
    ORDER BY received_at DESC, id DESC LIMIT ${q.limit ?? 100}`;
  return rows.map((r) => ({
    node: String(r.node),
    chunkId: Number(r.chunk_id),
    stream: String(r.stream),
    schema: (r.schema as Buffer).toString("hex"),
    error: String(r.error),
    receivedAt: Number(r.received_at),
  }));
}

/** Per node with anything to count: late, clock-suspect and expired readings, raw chunks by state. */
export async function selectReadingCounts(sql: postgres.Sql): Promise<ReadingCounts[]> {
  const rows = await sql`SELECT node, sum(late) AS late, sum(clock_suspect) AS clock_suspect,
      sum(expired) AS expired, sum(awaiting) AS awaiting, sum(failed) AS failed FROM (
      SELECT node, late, clock_suspect, expired, 0 AS awaiting, 0 AS failed FROM reading_counts
      UNION ALL SELECT node, 0, 0, 0, count(*), 0 FROM telemetry_chunks
        WHERE state = 'awaiting_schema' GROUP BY node
      UNION ALL SELECT node, 0, 0, 0, 0, count(*) FROM telemetry_chunks
        WHERE state = 'failed' GROUP BY node) AS counted
    GROUP BY node ORDER BY node`;
  return rows.map((r) => ({
    node: String(r.node),
    late: Number(r.late),
    clockSuspect: Number(r.clock_suspect),
    expired: Number(r.expired),
    awaitingSchema: Number(r.awaiting),
    decodeFailed: Number(r.failed),
  }));
}

function filter(sql: postgres.Sql, q: TelemetryQuery): postgres.PendingQuery<postgres.Row[]> {
  return sql`(${q.node ?? null}::text IS NULL OR node = ${q.node ?? null})
    AND (${q.stream ?? null}::text IS NULL OR stream = ${q.stream ?? null})
    AND (${q.since ?? null}::int8 IS NULL OR received_at >= ${q.since ?? null})`;
}
