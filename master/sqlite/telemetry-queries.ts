import type Database from "better-sqlite3";
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
