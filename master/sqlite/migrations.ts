import type { Database } from "better-sqlite3";
import { StoreVersionError } from "../errors.js";

/**
 * Schema versions, applied in order; `PRAGMA user_version` records the last one applied.
 * Never edit a shipped migration: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE nodes (
    name TEXT PRIMARY KEY,
    public_key TEXT NOT NULL UNIQUE,
    added_at INTEGER NOT NULL,
    arch TEXT,
    board TEXT,
    cpus INTEGER,
    agent_version TEXT,
    partitions INTEGER NOT NULL DEFAULT 0,
    isolated_cores TEXT NOT NULL DEFAULT '[]',
    registered_at INTEGER,
    last_seen INTEGER
  );
  CREATE TABLE software (
    node TEXT NOT NULL REFERENCES nodes(name),
    url TEXT NOT NULL,
    supplied_at INTEGER NOT NULL,
    PRIMARY KEY (node, url)
  );
  CREATE TABLE instances (
    name TEXT PRIMARY KEY,
    software TEXT NOT NULL,
    parameters TEXT NOT NULL,
    node TEXT NOT NULL REFERENCES nodes(name),
    partition INTEGER NOT NULL,
    cores TEXT NOT NULL,
    requested_state TEXT NOT NULL,
    status TEXT NOT NULL,
    promises TEXT NOT NULL DEFAULT '[]',
    connection TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    reported_at INTEGER,
    UNIQUE (node, partition)
  );
  CREATE TABLE usage (
    node TEXT NOT NULL,
    instance TEXT NOT NULL,
    period_from INTEGER NOT NULL,
    period_to INTEGER NOT NULL,
    cpu_seconds REAL NOT NULL,
    memory_peak_bytes INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (node, instance, period_from, period_to)
  );
  CREATE INDEX usage_by_instance ON usage (instance, period_to);
  CREATE TABLE telemetry_chunks (
    node TEXT NOT NULL,
    chunk_id INTEGER NOT NULL,
    stream TEXT NOT NULL,
    schema BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    records INTEGER NOT NULL,
    compression TEXT NOT NULL,
    body BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (node, chunk_id)
  );
  CREATE INDEX telemetry_chunks_by_time ON telemetry_chunks (received_at);
  CREATE INDEX telemetry_chunks_by_stream ON telemetry_chunks (node, stream, first_seq);
  CREATE TABLE telemetry_losses (
    node TEXT NOT NULL,
    loss_id INTEGER NOT NULL,
    stream TEXT NOT NULL,
    reason TEXT NOT NULL,
    chunk_id INTEGER NOT NULL,
    from_seq INTEGER NOT NULL,
    to_seq INTEGER NOT NULL,
    records INTEGER NOT NULL,
    at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (node, loss_id)
  );
  `,
  `
  ALTER TABLE instances ADD COLUMN parent TEXT;
  CREATE INDEX instances_by_parent ON instances (parent);
  `,
  `
  CREATE TABLE waiting_requests (
    name TEXT PRIMARY KEY,
    software TEXT NOT NULL,
    parameters TEXT NOT NULL,
    node TEXT,
    cores INTEGER NOT NULL,
    reason TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  `
  ALTER TABLE instances ADD COLUMN secret_keys TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE instances ADD COLUMN reported_secrets TEXT;
  ALTER TABLE waiting_requests ADD COLUMN secret_keys TEXT NOT NULL DEFAULT '[]';
  `,
  `
  ALTER TABLE instances ADD COLUMN limits TEXT;
  `,
  // Readings decoded on ingest. The chunk row stays as the (node, chunk id) dedupe record;
  // its body is kept only while the chunk is not decoded (state 'awaiting_schema' or
  // 'failed'). Chunks stored before this version await their schema.
  `
  CREATE TABLE chunks_v6 (
    node TEXT NOT NULL,
    chunk_id INTEGER NOT NULL,
    stream TEXT NOT NULL,
    schema BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    records INTEGER NOT NULL,
    compression TEXT NOT NULL,
    body BLOB,
    state TEXT NOT NULL,
    error TEXT,
    received_at INTEGER NOT NULL,
    UNIQUE (node, chunk_id)
  );
  INSERT INTO chunks_v6 (node, chunk_id, stream, schema, created_at, first_seq, last_seq,
      records, compression, body, state, received_at)
    SELECT node, chunk_id, stream, schema, created_at, first_seq, last_seq, records,
      compression, body, 'awaiting_schema', received_at FROM telemetry_chunks ORDER BY rowid;
  DROP TABLE telemetry_chunks;
  ALTER TABLE chunks_v6 RENAME TO telemetry_chunks;
  CREATE INDEX telemetry_chunks_by_time ON telemetry_chunks (received_at);
  CREATE INDEX telemetry_chunks_by_stream ON telemetry_chunks (node, stream, first_seq);
  CREATE INDEX telemetry_chunks_awaiting ON telemetry_chunks (schema)
    WHERE state = 'awaiting_schema';
  CREATE INDEX telemetry_chunks_failed ON telemetry_chunks (node, received_at)
    WHERE state = 'failed';
  CREATE TABLE schemas (
    fingerprint BLOB PRIMARY KEY,
    json TEXT NOT NULL,
    received_at INTEGER NOT NULL
  );
  CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    node TEXT NOT NULL,
    device TEXT NOT NULL,
    tag TEXT NOT NULL,
    UNIQUE (node, device, tag)
  );
  CREATE TABLE readings (
    series INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    chunk_id INTEGER NOT NULL,
    stream TEXT NOT NULL,
    kind INTEGER NOT NULL,
    value BLOB,
    quality TEXT NOT NULL,
    status TEXT,
    unit TEXT,
    extra TEXT,
    PRIMARY KEY (series, ts, seq, chunk_id)
  ) WITHOUT ROWID;
  CREATE TABLE reading_counts (
    node TEXT PRIMARY KEY,
    late INTEGER NOT NULL DEFAULT 0,
    clock_suspect INTEGER NOT NULL DEFAULT 0
  );
  `,
  // Retention: 1-minute rollups of good numeric readings per (series, minute, stream),
  // kept apart from the raw rows so they outlive them; built here from the readings
  // already stored (the `last` is the reading with the highest (ts, seq, chunk_id)).
  // Readings that arrive past raw retention are counted `expired`; decoded bodies kept
  // for replay (--keep-chunks) are found by the partial index.
  `
  CREATE TABLE reading_rollups (
    series INTEGER NOT NULL,
    minute INTEGER NOT NULL,
    stream TEXT NOT NULL,
    n INTEGER NOT NULL,
    lo REAL,
    hi REAL,
    total REAL,
    last_ts INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    last_chunk INTEGER NOT NULL,
    last_v REAL,
    last_unit TEXT,
    PRIMARY KEY (series, minute, stream)
  ) WITHOUT ROWID;
  WITH numeric AS (
    SELECT series, ts - ((ts % 60000) + 60000) % 60000 AS minute, stream, ts, seq, chunk_id,
      unit, CASE WHEN kind = 3 AND value < 0 THEN value + 18446744073709551616.0
        ELSE CAST(value AS REAL) END AS v
    FROM readings WHERE kind IN (1, 2, 3, 4) AND quality = 'good'),
  spans AS (
    SELECT series, minute, stream, count(v) AS n, min(v) AS lo, max(v) AS hi, sum(v) AS total
    FROM numeric GROUP BY series, minute, stream),
  ranked AS (
    SELECT *, row_number() OVER (PARTITION BY series, minute, stream
      ORDER BY ts DESC, seq DESC, chunk_id DESC) AS k FROM numeric)
  INSERT INTO reading_rollups (series, minute, stream, n, lo, hi, total, last_ts, last_seq,
      last_chunk, last_v, last_unit)
    SELECT s.series, s.minute, s.stream, s.n, s.lo, s.hi, s.total, r.ts, r.seq,
      r.chunk_id, r.v, r.unit
    FROM spans s JOIN ranked r USING (series, minute, stream) WHERE r.k = 1;
  ALTER TABLE reading_counts ADD COLUMN expired INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX telemetry_chunks_kept ON telemetry_chunks (received_at)
    WHERE state = 'decoded' AND body IS NOT NULL;
  `,
  // The telemetry outbox (--nats): a decoded chunk's messages for NATS JetStream, written
  // in the transaction that stores its readings and deleted once JetStream acked them.
  // AUTOINCREMENT: an id is never reused, so it says the order messages were written in.
  // `leased_until` (ms): the publisher holding the row until then.
  `
  CREATE TABLE telemetry_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    node TEXT NOT NULL,
    stream TEXT NOT NULL,
    chunk_id INTEGER NOT NULL,
    part INTEGER NOT NULL,
    parts INTEGER NOT NULL,
    readings INTEGER NOT NULL,
    payload BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    leased_until INTEGER
  );
  `,
];

/** Brings the database to the newest schema in one transaction; refuses a newer one. */
export function migrate(db: Database): number {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > MIGRATIONS.length) throw new StoreVersionError(current, MIGRATIONS.length);
  db.transaction(() => {
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v] ?? "");
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
  return MIGRATIONS.length;
}
