import type Database from "better-sqlite3";
import type { DecodeFailure, DecodeFailureQuery, ReadingCounts } from "../readings/health.js";
import type { StoredChunk, StoredLoss, TelemetryQuery } from "../store.js";
import { type Row, toChunk, toLoss } from "./rows.js";

/** Chunks matching `query`, oldest received first; bodies only when asked for. */
export function selectChunks(db: Database.Database, query: TelemetryQuery): StoredChunk[] {
  const { where, params } = telemetryFilter(query);
  const columns = `node, chunk_id, stream, schema, created_at, first_seq, last_seq, records,
    compression, received_at${query.withBody ? ", body" : ""}`;
  const rows = db
    .prepare(`SELECT ${columns} FROM telemetry_chunks ${where} ORDER BY received_at, rowid LIMIT ?`)
    .all(...params, query.limit ?? 1000) as Row[];
  return rows.map(toChunk);
}

/** Loss events matching `query`, oldest received first. */
export function selectLosses(db: Database.Database, query: TelemetryQuery): StoredLoss[] {
  const { where, params } = telemetryFilter(query);
  const rows = db
    .prepare(`SELECT * FROM telemetry_losses ${where} ORDER BY received_at, node, loss_id LIMIT ?`)
    .all(...params, query.limit ?? 1000) as Row[];
  return rows.map(toLoss);
}

/** Chunks kept raw because they did not decode, newest first. */
export function selectDecodeFailures(
  db: Database.Database,
  query: DecodeFailureQuery,
): DecodeFailure[] {
  const rows = db
    .prepare(`SELECT node, chunk_id, stream, schema, error, received_at FROM telemetry_chunks
      WHERE state = 'failed' AND (@node IS NULL OR node = @node)
      ORDER BY received_at DESC, rowid DESC LIMIT @limit`)
    .all({ node: query.node ?? null, limit: query.limit ?? 100 }) as Row[];
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
export function selectReadingCounts(db: Database.Database): ReadingCounts[] {
  const rows = db
    .prepare(`SELECT node, sum(late) AS late, sum(clock_suspect) AS clock_suspect,
        sum(expired) AS expired, sum(awaiting) AS awaiting, sum(failed) AS failed FROM (
        SELECT node, late, clock_suspect, expired, 0 AS awaiting, 0 AS failed FROM reading_counts
        UNION ALL SELECT node, 0, 0, 0, count(*), 0 FROM telemetry_chunks
          WHERE state = 'awaiting_schema' GROUP BY node
        UNION ALL SELECT node, 0, 0, 0, 0, count(*) FROM telemetry_chunks
          WHERE state = 'failed' GROUP BY node)
      GROUP BY node ORDER BY node`)
    .all() as Row[];
  return rows.map((r) => ({
    node: String(r.node),
    late: Number(r.late),
    clockSuspect: Number(r.clock_suspect),
    expired: Number(r.expired),
    awaitingSchema: Number(r.awaiting),
    decodeFailed: Number(r.failed),
  }));
}

function telemetryFilter(query: TelemetryQuery): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (query.node !== undefined) {
    clauses.push("node = ?");
    params.push(query.node);
  }
  if (query.stream !== undefined) {
    clauses.push("stream = ?");
    params.push(query.stream);
  }
  if (query.since !== undefined) {
    clauses.push("received_at >= ?");
    params.push(query.since);
  }
  return { where: clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "", params };
}
