import { finished } from "node:stream/promises";
import type postgres from "postgres";
import { telemetryMessages } from "../fanout/telemetry-message.js";
import { decodeChunk } from "../readings/chunk-decoder.js";
import { type KeptReadings, keptReadings } from "../readings/kept-readings.js";
import type { DecodedRecord } from "../readings/record-reader.js";
import { RecordReaders } from "../readings/record-readers.js";
import { KEEP_EVERYTHING, type RetentionPolicy } from "../readings/retention-policy.js";
import { mergeRollups } from "../readings/rollup.js";
import type { IngestResult, OutboxEntry, StoredChunk } from "../store.js";
import { copyText, READING_COLUMNS, readingCopyLine } from "./copy-text.js";
import { LOCK, lockShared } from "./locks.js";
import { Partitions } from "./partitions.js";
import { type RollupRow, upsertRollups } from "./rollup-rows.js";
import { type Row, toChunk } from "./rows.js";

type ChunkState = "decoded" | "awaiting_schema" | "failed";

/** A chunk and what its decode gave: the readings it keeps, or the state it is kept raw in. */
interface Outcome {
  chunk: StoredChunk;
  state: ChunkState;
  /** Every record decoded (the outbox's messages hold them all, whatever the retention keeps). */
  rows?: DecodedRecord[];
  kept?: KeptReadings;
  error: string | null;
}

/** Awaiting chunks decoded per statement when their schema arrives (bodies held at once). */
const AWAITING_PAGE = 256;

/** A node's readings a batch did not keep raw, by why. */
interface KeptCounts {
  late: number;
  suspect: number;
  expired: number;
}

/**
 * Chunks into the PostgreSQL store, decoded into readings in the caller's transaction,
 * as the SQLite writer does (see sqlite/readings-writer.ts for the states): the chunk
 * rows go in with one multi-row INSERT (ON CONFLICT DO NOTHING: a chunk another writer
 * committed meanwhile is a duplicate), the readings of every decoded chunk with one COPY
 * in a savepoint. If the table refuses a row, that savepoint is undone and the chunks
 * are copied again one savepoint each: the refused ones are kept raw as `failed`.
 *
 * Retention applies as readings arrive, as in SQLite (readings/kept-readings.ts): readings
 * already past raw retention are counted `expired`, not copied. The chunks' minutes are
 * merged in the master, then into `reading_rollups` by one upsert in the same savepoint
 * as their readings: a chunk's raw rows and its share of the rollups commit or roll back
 * together.
 *
 * With the outbox on, the chunks whose readings were stored (on ingest, or when their
 * schema came) get their messages for NATS JetStream by one more INSERT in the same
 * transaction; duplicates and chunks kept raw get none.
 */
export class PgReadingsWriter {
  /** Texts of the schemas the current call may need, read before it decodes. */
  private readonly schemaTexts = new Map<string, string>();
  readonly readers = new RecordReaders((fp) => this.schemaTexts.get(hex(fp)));
  private readonly partitions = new Partitions();
  /** `node\0device\0tag` → series id; ids added by undone work are forgotten. */
  private readonly seriesIds = new Map<string, number>();
  /** `series_generation` when `seriesIds` was last known good (see seriesGenerationIs). */
  private seriesGeneration: number | undefined;
  private addedSeries: string[] = [];

  constructor(
    private readonly now: () => number = Date.now,
    private readonly policy: RetentionPolicy = KEEP_EVERYTHING,
    /** Whether decoded chunks get their outbox messages (see store.ts StoreOptions). */
    private readonly outbox = false,
  ) {}

  /** Stores chunks; call inside a transaction (see the class comment). */
  async ingest(
    tx: postgres.TransactionSql,
    chunks: readonly StoredChunk[],
  ): Promise<IngestResult[]> {
    // One round trip: postgres.js pipelines these on the transaction's connection and the
    // server runs them in this order, so the schemas are read under the lock. The series
    // lock is taken here too (storeReadings would take it a statement later anyway);
    // schemas are read for every chunk, duplicates included (a superset is harmless).
    const [, , generation, existing] = await Promise.all([
      lockShared(tx, LOCK.schemas),
      lockShared(tx, LOCK.series),
      tx`SELECT n FROM series_generation`,
      tx`SELECT node, chunk_id FROM telemetry_chunks
        WHERE (node, chunk_id) IN (SELECT * FROM unnest(${chunks.map((c) => c.node)}::text[],
          ${chunks.map((c) => c.chunkId)}::int8[]))`,
      this.loadSchemas(
        tx,
        chunks.map((c) => c.schema),
      ),
    ]);
    this.seriesGenerationIs(Number(generation[0]?.n));
    const seen = new Set(existing.map((r) => keyOf(String(r.node), Number(r.chunk_id))));
    const fresh: StoredChunk[] = [];
    const isFresh = chunks.map((c) => {
      const key = keyOf(c.node, c.chunkId);
      if (seen.has(key)) return false;
      seen.add(key);
      fresh.push(c);
      return true;
    });
    const outcomes = fresh.map((c) => this.decode(c, c.receivedAt));
    const inserted = await this.insertChunks(tx, outcomes);
    await this.storeReadings(
      tx,
      outcomes.filter((o) => o.kept && inserted.has(keyOf(o.chunk.node, o.chunk.chunkId))),
      false,
      undefined,
    );
    let i = 0;
    return isFresh.map((f) => {
      if (!f) return { duplicate: true };
      const c = fresh[i++] as StoredChunk;
      return { duplicate: !inserted.has(keyOf(c.node, c.chunkId)) };
    });
  }

  /**
   * Decodes every chunk that awaited this schema, `now` being when the schema came; call
   * inside the schema's transaction, holding the schemas lock exclusively (so no ingest
   * judges a chunk awaiting meanwhile).
   */
  async decodeAwaiting(
    tx: postgres.TransactionSql,
    fingerprint: Uint8Array,
    now: number,
  ): Promise<number> {
    await this.loadSchemas(tx, [fingerprint]);
    if (!this.readers.get(fingerprint)) return 0;
    const ids = (
      await tx`SELECT id FROM telemetry_chunks
        WHERE state = 'awaiting_schema' AND schema = ${Buffer.from(fingerprint)} ORDER BY id`
    ).map((r) => String(r.id));
    for (let i = 0; i < ids.length; i += AWAITING_PAGE) {
      const page = ids.slice(i, i + AWAITING_PAGE);
      const rows =
        await tx`SELECT * FROM telemetry_chunks WHERE id = ANY(${page}::int8[]) ORDER BY id`;
      const outcomes = (rows as unknown as Row[]).map((r) => this.decode(toChunk(r), now));
      for (const o of outcomes) if (!o.kept) await this.setState(tx, o.chunk, o.state, o.error);
      await this.storeReadings(
        tx,
        outcomes.filter((o) => o.kept),
        true,
        now,
      );
    }
    return ids.length;
  }

  /** The transaction committed: the series and partitions it added are real. */
  committed(): void {
    this.addedSeries = [];
    this.partitions.committed();
  }

  /** Forgets what a transaction that rolled back added (call on its failure). */
  rolledBack(): void {
    this.forgetSeries(0);
    this.partitions.rolledBack();
  }

  /**
   * Retention is deleting this series: its id must not be used again. Call while holding
   * LOCK.series exclusively, before that transaction commits.
   */
  seriesDeleted(node: string, device: string, tag: string): void {
    this.seriesIds.delete(seriesKey(node, device, tag));
  }

  /**
   * The series generation as read under LOCK.series: when it moved since this writer last
   * looked, some master's retention deleted series, and any cached id may be gone.
   */
  private seriesGenerationIs(n: number): void {
    if (n !== this.seriesGeneration) this.seriesIds.clear();
    this.seriesGeneration = n;
  }

  /** Retention dropped a day's partition: made again (in the default partition's place) if needed. */
  partitionDropped(day: number): void {
    this.partitions.forget(day);
  }

  /**
   * Reads the texts of the schemas `fingerprints` name (one small query per call): the
   * reader cache compiles each once and asks for a text only when it lacks the reader.
   */
  private async loadSchemas(tx: postgres.ISql, fingerprints: readonly Uint8Array[]): Promise<void> {
    this.schemaTexts.clear();
    const wanted = [...new Set(fingerprints.map(hex))];
    if (wanted.length === 0) return;
    const rows = await tx`SELECT fingerprint, json FROM schemas
      WHERE fingerprint = ANY(${wanted.map((h) => Buffer.from(h, "hex"))}::bytea[])`;
    for (const r of rows)
      this.schemaTexts.set((r.fingerprint as Buffer).toString("hex"), String(r.json));
  }

  /** Decodes a chunk and applies the retention policy at `now` to its readings. */
  private decode(chunk: StoredChunk, now: number): Outcome {
    const reader = this.readers.get(chunk.schema);
    if (!reader) return { chunk, state: "awaiting_schema", error: null };
    if ("error" in reader) return failed(chunk, reader.error);
    try {
      const rows = decodeChunk(chunk, reader.read);
      return {
        chunk,
        state: "decoded",
        ...(this.outbox ? { rows } : {}),
        kept: keptReadings(chunk, rows, this.policy, now),
        error: null,
      };
    } catch (err) {
      return failed(chunk, (err as Error).message);
    }
  }

  /**
   * Inserts the chunk rows in arrival order and, in the same statement, adds the ones
   * inserted to their nodes' totals (`node_telemetry`, the status page's on every master;
   * rows upserted in name order, so two masters' commits never deadlock on them);
   * returns the keys actually inserted.
   */
  private async insertChunks(
    tx: postgres.ISql,
    outcomes: readonly Outcome[],
  ): Promise<Set<string>> {
    if (outcomes.length === 0) return new Set();
    const col = <T>(f: (o: Outcome) => T) => outcomes.map(f);
    const rows = await tx`WITH stored AS (INSERT INTO telemetry_chunks (node, chunk_id, stream,
        schema, created_at, first_seq, last_seq, records, compression, body, state, error,
        received_at)
      SELECT node, chunk_id, stream, schema, created_at, first_seq, last_seq, records,
        compression, body, state, error, received_at
      FROM unnest(${col((o) => o.chunk.node)}::text[], ${col((o) => o.chunk.chunkId)}::int8[],
        ${col((o) => o.chunk.stream)}::text[], ${col((o) => Buffer.from(o.chunk.schema))}::bytea[],
        ${col((o) => o.chunk.createdAt)}::int8[], ${col((o) => o.chunk.firstSeq)}::int8[],
        ${col((o) => o.chunk.lastSeq)}::int8[], ${col((o) => o.chunk.records)}::int4[],
        ${col((o) => o.chunk.compression)}::text[],
        ${col((o) => (this.dropsBody(o.state) ? null : Buffer.from(o.chunk.body)))}::bytea[],
        ${col((o) => o.state)}::text[], ${col((o) => o.error)}::text[],
        ${col((o) => o.chunk.receivedAt)}::int8[])
        WITH ORDINALITY AS u(node, chunk_id, stream, schema, created_at, first_seq, last_seq,
          records, compression, body, state, error, received_at, ord)
      ORDER BY ord
      ON CONFLICT (node, chunk_id) DO NOTHING
      RETURNING node, chunk_id, records, received_at),
    counted AS (INSERT INTO node_telemetry (node, chunks, records, last_chunk_at)
      SELECT node, count(*), sum(records), max(received_at) FROM stored
      GROUP BY node ORDER BY node
      ON CONFLICT (node) DO UPDATE SET chunks = node_telemetry.chunks + excluded.chunks,
        records = node_telemetry.records + excluded.records,
        last_chunk_at = greatest(node_telemetry.last_chunk_at, excluded.last_chunk_at))
    SELECT node, chunk_id FROM stored`;
    return new Set(rows.map((r) => keyOf(String(r.node), Number(r.chunk_id))));
  }

  /**
   * The readings of decoded chunks, all in one savepoint, else one savepoint per chunk;
   * chunks whose rows are refused are kept raw as `failed`. `stored`: the chunk rows
   * exist already (awaiting their schema) and become `decoded`.
   */
  private async storeReadings(
    tx: postgres.TransactionSql,
    outcomes: readonly Outcome[],
    stored: boolean,
    /** When the schema came, for chunks that awaited it; new chunks count from their arrival. */
    now: number | undefined,
  ): Promise<void> {
    if (outcomes.length === 0) return;
    // ingest took it with its first statements; decodeAwaiting has not.
    if (stored) {
      const [, generation] = await Promise.all([
        lockShared(tx, LOCK.series),
        tx`SELECT n FROM series_generation`,
      ]);
      this.seriesGenerationIs(Number(generation[0]?.n));
    }
    await this.partitions.ensure(tx, timesOf(outcomes), this.now());
    const refused = new Map<Outcome, string>();
    if (!(await this.attempt(tx, outcomes))) {
      for (const o of outcomes) {
        const why = await this.attempt(tx, [o]).then(
          () => undefined,
          (err: unknown) => err,
        );
        if (why !== undefined) refused.set(o, (why as Error).message);
      }
    }
    for (const o of outcomes) {
      const why = refused.get(o);
      if (why !== undefined)
        await this.setState(
          tx,
          o.chunk,
          "failed",
          `readings refused by the store (${why})`.slice(0, 1024),
        );
      else if (stored) await this.setState(tx, o.chunk, "decoded", null);
    }
    if (this.outbox)
      await insertOutbox(
        tx,
        outcomes
          .filter((o) => !refused.has(o))
          .flatMap((o) =>
            telemetryMessages(o.chunk, o.rows ?? []).map((m) => ({
              ...m,
              at: now ?? o.chunk.receivedAt,
            })),
          ),
      );
  }

  /**
   * One savepoint holding the outcomes' series, readings and counts; false (or, for a
   * single chunk, the refusal thrown) when the table refused a row.
   */
  private async attempt(
    tx: postgres.TransactionSql,
    outcomes: readonly Outcome[],
  ): Promise<boolean> {
    const mark = this.addedSeries.length;
    try {
      await tx.savepoint((sp) => this.insertRows(sp, outcomes));
      return true;
    } catch (err) {
      if (!isRowRefused(err)) throw err;
      this.forgetSeries(mark);
      if (outcomes.length === 1) throw err;
      return false;
    }
  }

  private async insertRows(
    sp: postgres.TransactionSql,
    outcomes: readonly Outcome[],
  ): Promise<void> {
    await this.ensureSeries(sp, outcomes);
    const lines: string[] = [];
    const counts = new Map<string, KeptCounts>();
    const minutes = new Map<string, RollupRow>();
    for (const { chunk, kept } of outcomes) {
      if (!kept) continue;
      const stream = copyText(chunk.stream);
      for (const r of kept.raw) {
        const series = this.seriesIds.get(seriesKey(chunk.node, r.device, r.tag));
        lines.push(readingCopyLine(series, chunk.chunkId, stream, r));
      }
      // One row per (series, minute, stream) however many chunks of the batch share it.
      for (const m of kept.minutes) {
        const series = this.seriesIds.get(seriesKey(chunk.node, m.device, m.tag)) as number;
        const key = `${series}\0${m.minute}\0${chunk.stream}`;
        const row = minutes.get(key);
        if (row) row.state = mergeRollups(row.state, m.state);
        else minutes.set(key, { series, minute: m.minute, stream: chunk.stream, state: m.state });
      }
      if (kept.late > 0 || kept.suspect > 0 || kept.expired > 0) {
        const c = counts.get(chunk.node) ?? { late: 0, suspect: 0, expired: 0 };
        counts.set(chunk.node, {
          late: c.late + kept.late,
          suspect: c.suspect + kept.suspect,
          expired: c.expired + kept.expired,
        });
      }
    }
    if (lines.length > 0) {
      const copy = await sp.unsafe(`COPY readings (${READING_COLUMNS}) FROM STDIN`).writable();
      copy.end(lines.join(""));
      await finished(copy);
    }
    await upsertRollups(sp, [...minutes.values()]);
    // By node, so two masters' commits take shared rows in the same order.
    const nodes = [...counts.keys()].sort();
    const count = (f: (c: KeptCounts) => number) =>
      nodes.map((n) => f(counts.get(n) as KeptCounts));
    if (nodes.length > 0)
      await sp`INSERT INTO reading_counts (node, late, clock_suspect, expired)
        SELECT * FROM unnest(${nodes}::text[], ${count((c) => c.late)}::int8[],
          ${count((c) => c.suspect)}::int8[], ${count((c) => c.expired)}::int8[])
        ON CONFLICT (node) DO UPDATE SET late = reading_counts.late + excluded.late,
          clock_suspect = reading_counts.clock_suspect + excluded.clock_suspect,
          expired = reading_counts.expired + excluded.expired`;
  }

  /** Series ids for every (node, device, tag) of the outcomes, made where missing. */
  private async ensureSeries(sp: postgres.ISql, outcomes: readonly Outcome[]): Promise<void> {
    const missing = new Map<string, [string, string, string]>();
    for (const { chunk, kept } of outcomes)
      for (const r of [...(kept?.raw ?? []), ...(kept?.minutes ?? [])]) {
        const key = seriesKey(chunk.node, r.device, r.tag);
        if (!this.seriesIds.has(key)) missing.set(key, [chunk.node, r.device, r.tag]);
      }
    if (missing.size === 0) return;
    const keys = [...missing.values()];
    const nodes = keys.map((k) => k[0]);
    const devices = keys.map((k) => k[1]);
    const tags = keys.map((k) => k[2]);
    // The SELECT sees the rows from before the INSERT: together they give every id.
    const rows = await sp`WITH wanted AS (
        SELECT * FROM unnest(${nodes}::text[], ${devices}::text[], ${tags}::text[]) AS w(node, device, tag)),
      made AS (INSERT INTO series (node, device, tag) SELECT * FROM wanted
        ON CONFLICT DO NOTHING RETURNING id, node, device, tag)
      SELECT * FROM made
      UNION ALL SELECT s.id, s.node, s.device, s.tag FROM series s JOIN wanted w USING (node, device, tag)`;
    for (const r of rows) {
      const key = seriesKey(String(r.node), String(r.device), String(r.tag));
      this.seriesIds.set(key, Number(r.id));
      this.addedSeries.push(key);
    }
  }

  private forgetSeries(from: number): void {
    for (const key of this.addedSeries.splice(from)) this.seriesIds.delete(key);
  }

  /** Decoded bodies go at decode unless kept for replay (--keep-chunks; retention drops them later). */
  private dropsBody(state: ChunkState): boolean {
    return state === "decoded" && this.policy.keepChunksMs === 0;
  }

  private async setState(
    tx: postgres.ISql,
    chunk: StoredChunk,
    state: ChunkState,
    error: string | null,
  ): Promise<void> {
    // A chunk made `failed` here was inserted without its body when it was expected to decode.
    const body = this.dropsBody(state) ? null : Buffer.from(chunk.body);
    await tx`UPDATE telemetry_chunks SET state = ${state}, error = ${error}, body = ${body}
      WHERE node = ${chunk.node} AND chunk_id = ${chunk.chunkId}`;
  }
}

/** The messages of decoded chunks into the outbox, in order, each written `at`. */
async function insertOutbox(
  tx: postgres.ISql,
  messages: readonly (OutboxEntry & { at: number })[],
): Promise<void> {
  if (messages.length === 0) return;
  const col = <T>(f: (m: OutboxEntry & { at: number }) => T) => messages.map(f);
  await tx`INSERT INTO telemetry_outbox (node, stream, chunk_id, part, parts, readings, payload,
      created_at)
    SELECT node, stream, chunk_id, part, parts, readings, payload, created_at
    FROM unnest(${col((m) => m.node)}::text[], ${col((m) => m.stream)}::text[],
      ${col((m) => m.chunkId)}::int8[], ${col((m) => m.part)}::int4[],
      ${col((m) => m.parts)}::int4[], ${col((m) => m.readings)}::int4[],
      ${col((m) => Buffer.from(m.payload))}::bytea[], ${col((m) => m.at)}::int8[])
      WITH ORDINALITY AS u(node, stream, chunk_id, part, parts, readings, payload, created_at,
        ord)
    ORDER BY ord`;
}

function failed(chunk: StoredChunk, error: string): Outcome {
  return { chunk, state: "failed", error: error.slice(0, 1024) };
}

function* timesOf(outcomes: readonly Outcome[]): Generator<number> {
  for (const o of outcomes) for (const r of o.kept?.raw ?? []) yield r.ts;
}

/**
 * A row the readings table refuses (a constraint, a value PostgreSQL cannot hold such as
 * NUL in text, or a trigger raising), not the database failing.
 */
function isRowRefused(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === "string" && (code.startsWith("22") || code.startsWith("23") || code === "P0001")
  );
}

function keyOf(node: string, chunkId: number): string {
  return `${node}\0${chunkId}`;
}

function seriesKey(node: string, device: string, tag: string): string {
  return `${node}\0${device}\0${tag}`;
}

function hex(fp: Uint8Array): string {
  return Buffer.from(fp).toString("hex");
}
