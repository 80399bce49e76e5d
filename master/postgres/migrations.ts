import type postgres from "postgres";
import { StoreVersionError } from "../errors.js";
import { LOCK, lockExclusive } from "./locks.js";

/**
 * Schema versions of the PostgreSQL store, applied in order; `schema_version` holds the
 * last one applied. Never edit a shipped migration: append a new one. Times are bigint
 * ms since the epoch, as in the SQLite store, so every value round-trips exactly.
 */
export const MIGRATIONS: readonly string[] = [
  `
  -- Names and keys sort by their bytes (COLLATE "C"), as in SQLite, whatever the
  -- database's locale: listings and the readings' (node, device, tag) order agree.
  CREATE TABLE nodes (
    name text COLLATE "C" PRIMARY KEY,
    public_key text NOT NULL UNIQUE,
    added_at bigint NOT NULL,
    arch text,
    board text,
    cpus integer,
    agent_version text,
    partitions integer NOT NULL DEFAULT 0,
    isolated_cores integer[] NOT NULL DEFAULT '{}',
    registered_at bigint,
    last_seen bigint
  );
  CREATE TABLE software (
    node text COLLATE "C" NOT NULL REFERENCES nodes (name),
    url text COLLATE "C" NOT NULL,
    supplied_at bigint NOT NULL,
    PRIMARY KEY (node, url)
  );
  CREATE TABLE instances (
    name text COLLATE "C" PRIMARY KEY,
    software text NOT NULL,
    parameters jsonb NOT NULL,
    secret_keys jsonb NOT NULL DEFAULT '[]',
    reported_secrets jsonb,
    node text COLLATE "C" NOT NULL REFERENCES nodes (name),
    partition integer NOT NULL,
    cores integer[] NOT NULL,
    requested_state text NOT NULL,
    status text NOT NULL,
    promises jsonb NOT NULL DEFAULT '[]',
    connection jsonb NOT NULL DEFAULT '{}',
    parent text COLLATE "C",
    limits jsonb,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    reported_at bigint,
    UNIQUE (node, partition)
  );
  CREATE INDEX instances_by_parent ON instances (parent);
  CREATE TABLE waiting_requests (
    name text COLLATE "C" PRIMARY KEY,
    software text NOT NULL,
    parameters jsonb NOT NULL,
    secret_keys jsonb NOT NULL DEFAULT '[]',
    node text,
    cores integer NOT NULL,
    reason text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  );
  CREATE TABLE usage (
    node text NOT NULL,
    instance text NOT NULL,
    period_from bigint NOT NULL,
    period_to bigint NOT NULL,
    cpu_seconds double precision NOT NULL,
    memory_peak_bytes bigint NOT NULL,
    received_at bigint NOT NULL,
    PRIMARY KEY (node, instance, period_from, period_to)
  );
  CREATE INDEX usage_by_instance ON usage (instance, period_to);
  -- id: arrival order (SQLite's rowid), the tie-break of every listing.
  CREATE TABLE telemetry_chunks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    node text COLLATE "C" NOT NULL,
    chunk_id bigint NOT NULL,
    stream text NOT NULL,
    schema bytea NOT NULL,
    created_at bigint NOT NULL,
    first_seq bigint NOT NULL,
    last_seq bigint NOT NULL,
    records integer NOT NULL,
    compression text NOT NULL,
    body bytea,
    state text NOT NULL,
    error text,
    received_at bigint NOT NULL,
    UNIQUE (node, chunk_id)
  );
  CREATE INDEX telemetry_chunks_by_time ON telemetry_chunks (received_at);
  CREATE INDEX telemetry_chunks_by_stream ON telemetry_chunks (node, stream, first_seq);
  CREATE INDEX telemetry_chunks_awaiting ON telemetry_chunks (schema)
    WHERE state = 'awaiting_schema';
  CREATE INDEX telemetry_chunks_failed ON telemetry_chunks (node, received_at)
    WHERE state = 'failed';
  CREATE TABLE telemetry_losses (
    node text COLLATE "C" NOT NULL,
    loss_id bigint NOT NULL,
    stream text NOT NULL,
    reason text NOT NULL,
    chunk_id bigint NOT NULL,
    from_seq bigint NOT NULL,
    to_seq bigint NOT NULL,
    records bigint NOT NULL,
    at bigint NOT NULL,
    received_at bigint NOT NULL,
    PRIMARY KEY (node, loss_id)
  );
  CREATE TABLE schemas (
    fingerprint bytea PRIMARY KEY,
    json text NOT NULL,
    received_at bigint NOT NULL
  );
  CREATE TABLE series (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    node text COLLATE "C" NOT NULL,
    device text COLLATE "C" NOT NULL,
    tag text COLLATE "C" NOT NULL,
    UNIQUE (node, device, tag)
  );
  -- One value column per kind of value (see readings/value-kind.ts): float64 in v_double
  -- (NaN kept), int64, uint64 (two's complement) and bool (0/1) in v_int, strings in
  -- v_text, arrays packed in v_bytes. Daily partitions are made by the writer
  -- (postgres/partitions.ts); times outside them land in readings_default.
  CREATE TABLE readings (
    series integer NOT NULL,
    ts bigint NOT NULL,
    seq bigint NOT NULL,
    chunk_id bigint NOT NULL,
    stream text NOT NULL,
    kind smallint NOT NULL,
    v_double double precision,
    v_int bigint,
    v_text text,
    v_bytes bytea,
    quality text NOT NULL,
    status text,
    unit text,
    extra jsonb,
    PRIMARY KEY (series, ts, seq, chunk_id)
  ) PARTITION BY RANGE (ts);
  CREATE TABLE readings_default PARTITION OF readings DEFAULT;
  -- A new day's partition takes that day's rows out of the default one: found by time.
  CREATE INDEX readings_default_by_ts ON readings_default (ts);
  CREATE TABLE reading_counts (
    node text COLLATE "C" PRIMARY KEY,
    late bigint NOT NULL DEFAULT 0,
    clock_suspect bigint NOT NULL DEFAULT 0
  );
  -- For Grafana and psql: one row per reading with its series' names, the time as
  -- timestamptz (null outside years 1..9999, which timestamptz cannot hold) and numeric
  -- values as a double. Filter on ts (ms) to prune partitions.
  CREATE VIEW readings_view AS
    SELECT CASE WHEN r.ts BETWEEN -62135596800000 AND 253402300799999
        THEN to_timestamp(r.ts / 1000.0) END AS time,
      r.ts, s.node, s.device, s.tag, r.stream,
      CASE WHEN r.kind = 1 THEN r.v_double
        WHEN r.kind = 3 AND r.v_int < 0 THEN r.v_int::float8 + 18446744073709551616::float8
        WHEN r.kind IN (2, 3, 4) THEN r.v_int::float8 END AS value,
      r.v_text AS value_text, r.quality, r.status, r.unit, r.seq, r.chunk_id, r.extra
    FROM readings r JOIN series s ON s.id = r.series;
  `,
  // Retention: 1-minute rollups of good numeric readings per (series, minute, stream),
  // kept apart from the raw rows so they outlive them (see the SQLite store's), built here
  // from the readings already stored. NaN is kept as itself: never in lo or hi, in total
  // only as a sum of infinities, in last_v when the last reading was NaN. Readings that
  // arrive past raw retention are counted `expired`; decoded bodies kept for replay
  // (--keep-chunks) are found by the partial index. rollups_view is the rollups for
  // Grafana, as readings_view is the readings.
  `
  CREATE TABLE reading_rollups (
    series integer NOT NULL,
    minute bigint NOT NULL,
    stream text NOT NULL,
    n bigint NOT NULL,
    lo double precision,
    hi double precision,
    total double precision NOT NULL,
    last_ts bigint NOT NULL,
    last_seq bigint NOT NULL,
    last_chunk bigint NOT NULL,
    last_v double precision,
    last_unit text,
    PRIMARY KEY (series, minute, stream)
  );
  WITH numeric AS (
    SELECT series, ts - ((ts % 60000) + 60000) % 60000 AS minute, stream, ts, seq, chunk_id,
      unit, CASE WHEN kind = 1 THEN v_double
        WHEN kind = 3 AND v_int < 0 THEN v_int::float8 + 18446744073709551616::float8
        ELSE v_int::float8 END AS v
    FROM readings WHERE kind IN (1, 2, 3, 4) AND quality = 'good'),
  spans AS (
    SELECT series, minute, stream, count(v) FILTER (WHERE v <> 'NaN') AS n,
      min(v) FILTER (WHERE v <> 'NaN') AS lo, max(v) FILTER (WHERE v <> 'NaN') AS hi,
      coalesce(sum(v) FILTER (WHERE v <> 'NaN'), 0) AS total
    FROM numeric GROUP BY series, minute, stream),
  ranked AS (
    SELECT *, row_number() OVER (PARTITION BY series, minute, stream
      ORDER BY ts DESC, seq DESC, chunk_id DESC) AS k FROM numeric)
  INSERT INTO reading_rollups (series, minute, stream, n, lo, hi, total, last_ts, last_seq,
      last_chunk, last_v, last_unit)
    SELECT s.series, s.minute, s.stream, s.n, s.lo, s.hi, s.total, r.ts, r.seq,
      r.chunk_id, r.v, r.unit
    FROM spans s JOIN ranked r USING (series, minute, stream) WHERE r.k = 1;
  ALTER TABLE reading_counts ADD COLUMN expired bigint NOT NULL DEFAULT 0;
  CREATE INDEX telemetry_chunks_kept ON telemetry_chunks (received_at)
    WHERE state = 'decoded' AND body IS NOT NULL;
  -- One row per (series, minute, stream); a minute of several streams is several rows
  -- (merge them with sum(sum) / sum(count), min(min), max(max)). Filter on minute (ms)
  -- as well as time: the primary key is (series, minute, stream).
  CREATE VIEW rollups_view AS
    SELECT CASE WHEN ro.minute BETWEEN -62135596800000 AND 253402300799999
        THEN to_timestamp(ro.minute / 1000.0) END AS time,
      ro.minute, s.node, s.device, s.tag, ro.stream, ro.lo AS min, ro.hi AS max,
      CASE WHEN ro.n > 0 THEN ro.total / ro.n END AS avg, ro.n AS count, ro.total AS sum,
      ro.last_v AS last, ro.last_unit AS unit
    FROM reading_rollups ro JOIN series s ON s.id = ro.series;
  `,
  // Several masters on one database. placed_cores backs the placement lock for isolated
  // cores as UNIQUE (node, partition) does for partitions: one row per (node, core) of
  // every placed instance, kept by a trigger on instances (so no code path can skip it)
  // and dropped with the instance, its primary key refusing a core given twice.
  // instances.buffer and node_telemetry hold what each master's status page used to keep
  // in memory: each instance's last buffer backlog, as its node reported it, and per node
  // the chunks and records ingest stored and when the newest came.
  `
  CREATE TABLE placed_cores (
    node text COLLATE "C" NOT NULL,
    core integer NOT NULL,
    instance text COLLATE "C" NOT NULL REFERENCES instances (name) ON DELETE CASCADE,
    PRIMARY KEY (node, core)
  );
  CREATE INDEX placed_cores_by_instance ON placed_cores (instance);
  CREATE FUNCTION outpost_place_cores() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    DELETE FROM placed_cores WHERE instance = NEW.name;
    INSERT INTO placed_cores (node, core, instance)
      SELECT NEW.node, core, NEW.name FROM unnest(NEW.cores) AS core;
    RETURN NULL;
  END $$;
  CREATE TRIGGER instances_place_cores AFTER INSERT OR UPDATE OF node, cores
    ON instances FOR EACH ROW EXECUTE FUNCTION outpost_place_cores();
  INSERT INTO placed_cores (node, core, instance)
    SELECT node, unnest(cores), name FROM instances;
  ALTER TABLE instances ADD COLUMN buffer jsonb;
  CREATE TABLE node_telemetry (
    node text COLLATE "C" PRIMARY KEY,
    chunks bigint NOT NULL,
    records bigint NOT NULL,
    last_chunk_at bigint NOT NULL
  );
  INSERT INTO node_telemetry (node, chunks, records, last_chunk_at)
    SELECT node, count(*), sum(records), max(received_at) FROM telemetry_chunks GROUP BY node;
  `,
  `
  -- The telemetry outbox (--nats): a decoded chunk's messages for NATS JetStream, written
  -- in the transaction that stores its readings and deleted once JetStream acked them.
  -- id: the order messages were written in. leased_until (ms, the database's clock): the
  -- publisher holding the row until then; publishers of several masters claim rows with
  -- FOR UPDATE SKIP LOCKED and skip those leased.
  CREATE TABLE telemetry_outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    node text NOT NULL,
    stream text NOT NULL,
    chunk_id bigint NOT NULL,
    part integer NOT NULL,
    parts integer NOT NULL,
    readings integer NOT NULL,
    payload bytea NOT NULL,
    created_at bigint NOT NULL,
    leased_until bigint
  );
  `,
  `
  -- Bumped by retention in each transaction that deletes series. Every master's writer
  -- caches series ids; it reads this under LOCK.series at the start of each ingest and
  -- forgets its cache when it moved, so no master writes readings under the id of a
  -- series another master deleted.
  CREATE TABLE series_generation (n bigint NOT NULL);
  INSERT INTO series_generation (n) VALUES (0);
  `,
];

/** Brings the database to the newest schema in one transaction; refuses a newer one. */
export async function migrate(sql: postgres.Sql): Promise<number> {
  return sql.begin(async (tx) => {
    await lockExclusive(tx, LOCK.migrate);
    await tx`CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`;
    const [row] = await tx`SELECT version FROM schema_version`;
    const current = row ? Number(row.version) : 0;
    if (current > MIGRATIONS.length) throw new StoreVersionError(current, MIGRATIONS.length);
    for (let v = current; v < MIGRATIONS.length; v++) await tx.unsafe(MIGRATIONS[v] ?? "");
    if (row) await tx`UPDATE schema_version SET version = ${MIGRATIONS.length}`;
    else await tx`INSERT INTO schema_version (version) VALUES (${MIGRATIONS.length})`;
    return MIGRATIONS.length;
  });
}
