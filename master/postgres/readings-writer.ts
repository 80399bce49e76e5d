import { finished } from "node:stream/promises";
import type postgres from "postgres";
import { decodeChunk } from "../readings/chunk-decoder.js";
import { timeTrust } from "../readings/clock.js";
import type { DecodedRecord } from "../readings/record-reader.js";
import { RecordReaders } from "../readings/record-readers.js";
import type { IngestResult, StoredChunk } from "../store.js";
import { copyText, READING_COLUMNS, readingCopyLine } from "./copy-text.js";
import { LOCK, lockShared } from "./locks.js";
import { Partitions } from "./partitions.js";
import { type Row, toChunk } from "./rows.js";

type ChunkState = "decoded" | "awaiting_schema" | "failed";

/** A chunk and what its decode gave: its readings, or the state it is kept raw in. */
interface Outcome {
  chunk: StoredChunk;
  state: ChunkState;
  rows?: DecodedRecord[];
  error: string | null;
}

/** Awaiting chunks decoded per statement when their schema arrives (bodies held at once). */
const AWAITING_PAGE = 256;

/**
 * Chunks into the PostgreSQL store, decoded into readings in the caller's transaction,
 * as the SQLite writer does (see sqlite/readings-writer.ts for the states): the chunk
 * rows go in with one multi-row INSERT (ON CONFLICT DO NOTHING: a chunk another writer
 * committed meanwhile is a duplicate), the readings of every decoded chunk with one COPY
 * in a savepoint. If the table refuses a row, that savepoint is undone and the chunks
 * are copied again one savepoint each: the refused ones are kept raw as `failed`.
 */
export class PgReadingsWriter {
  /** Texts of the schemas the current call may need, read before it decodes. */
  private readonly schemaTexts = new Map<string, string>();
  readonly readers = new RecordReaders((fp) => this.schemaTexts.get(hex(fp)));
  private readonly partitions = new Partitions();
  /** `node\0device\0tag` → series id; ids added by undone work are forgotten. */
  private readonly seriesIds = new Map<string, number>();
  private addedSeries: string[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Stores chunks; call inside a transaction (see the class comment). */
  async ingest(
    tx: postgres.TransactionSql,
    chunks: readonly StoredChunk[],
  ): Promise<IngestResult[]> {
    await lockShared(tx, LOCK.schemas);
    const existing = await tx`SELECT node, chunk_id FROM telemetry_chunks
      WHERE (node, chunk_id) IN (SELECT * FROM unnest(${chunks.map((c) => c.node)}::text[],
        ${chunks.map((c) => c.chunkId)}::int8[]))`;
    const seen = new Set(existing.map((r) => keyOf(String(r.node), Number(r.chunk_id))));
    const fresh: StoredChunk[] = [];
    const isFresh = chunks.map((c) => {
      const key = keyOf(c.node, c.chunkId);
      if (seen.has(key)) return false;
      seen.add(key);
      fresh.push(c);
      return true;
    });
    await this.loadSchemas(
      tx,
      fresh.map((c) => c.schema),
    );
    const outcomes = fresh.map((c) => this.decode(c));
    const inserted = await this.insertChunks(tx, outcomes);
    await this.storeReadings(
      tx,
      outcomes.filter((o) => o.rows && inserted.has(keyOf(o.chunk.node, o.chunk.chunkId))),
      false,
    );
    let i = 0;
    return isFresh.map((f) => {
      if (!f) return { duplicate: true };
      const c = fresh[i++] as StoredChunk;
      return { duplicate: !inserted.has(keyOf(c.node, c.chunkId)) };
    });
  }

  /**
   * Decodes every chunk that awaited this schema; call inside the schema's transaction,
   * holding the schemas lock exclusively (so no ingest judges a chunk awaiting meanwhile).
   */
  async decodeAwaiting(tx: postgres.TransactionSql, fingerprint: Uint8Array): Promise<number> {
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
      const outcomes = (rows as unknown as Row[]).map((r) => this.decode(toChunk(r)));
      for (const o of outcomes) if (!o.rows) await this.setState(tx, o.chunk, o.state, o.error);
      await this.storeReadings(
        tx,
        outcomes.filter((o) => o.rows),
        true,
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

  private decode(chunk: StoredChunk): Outcome {
    const reader = this.readers.get(chunk.schema);
    if (!reader) return { chunk, state: "awaiting_schema", error: null };
    if ("error" in reader) return failed(chunk, reader.error);
    try {
      return { chunk, state: "decoded", rows: decodeChunk(chunk, reader.read), error: null };
    } catch (err) {
      return failed(chunk, (err as Error).message);
    }
  }

  /** Inserts the chunk rows in arrival order; returns the keys actually inserted. */
  private async insertChunks(
    tx: postgres.ISql,
    outcomes: readonly Outcome[],
  ): Promise<Set<string>> {
    if (outcomes.length === 0) return new Set();
    const col = <T>(f: (o: Outcome) => T) => outcomes.map(f);
    const rows = await tx`INSERT INTO telemetry_chunks (node, chunk_id, stream, schema, created_at,
        first_seq, last_seq, records, compression, body, state, error, received_at)
      SELECT node, chunk_id, stream, schema, created_at, first_seq, last_seq, records,
        compression, body, state, error, received_at
      FROM unnest(${col((o) => o.chunk.node)}::text[], ${col((o) => o.chunk.chunkId)}::int8[],
        ${col((o) => o.chunk.stream)}::text[], ${col((o) => Buffer.from(o.chunk.schema))}::bytea[],
        ${col((o) => o.chunk.createdAt)}::int8[], ${col((o) => o.chunk.firstSeq)}::int8[],
        ${col((o) => o.chunk.lastSeq)}::int8[], ${col((o) => o.chunk.records)}::int4[],
        ${col((o) => o.chunk.compression)}::text[],
        ${col((o) => (o.state === "decoded" ? null : Buffer.from(o.chunk.body)))}::bytea[],
        ${col((o) => o.state)}::text[], ${col((o) => o.error)}::text[],
        ${col((o) => o.chunk.receivedAt)}::int8[])
        WITH ORDINALITY AS u(node, chunk_id, stream, schema, created_at, first_seq, last_seq,
          records, compression, body, state, error, received_at, ord)
      ORDER BY ord
      ON CONFLICT (node, chunk_id) DO NOTHING
      RETURNING node, chunk_id`;
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
  ): Promise<void> {
    if (outcomes.length === 0) return;
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
    const counts = new Map<string, { late: number; suspect: number }>();
    for (const { chunk, rows } of outcomes) {
      let late = 0;
      let suspect = 0;
      const stream = copyText(chunk.stream);
      for (const r of rows ?? []) {
        const trust = timeTrust(r.ts, chunk.receivedAt);
        if (trust === "late") late++;
        else if (trust === "suspect") suspect++;
        const series = this.seriesIds.get(seriesKey(chunk.node, r.device, r.tag));
        lines.push(readingCopyLine(series, chunk.chunkId, stream, r));
      }
      if (late > 0 || suspect > 0) {
        const c = counts.get(chunk.node) ?? { late: 0, suspect: 0 };
        counts.set(chunk.node, { late: c.late + late, suspect: c.suspect + suspect });
      }
    }
    if (lines.length > 0) {
      const copy = await sp.unsafe(`COPY readings (${READING_COLUMNS}) FROM STDIN`).writable();
      copy.end(lines.join(""));
      await finished(copy);
    }
    if (counts.size > 0)
      await sp`INSERT INTO reading_counts (node, late, clock_suspect)
        SELECT * FROM unnest(${[...counts.keys()]}::text[],
          ${[...counts.values()].map((c) => c.late)}::int8[],
          ${[...counts.values()].map((c) => c.suspect)}::int8[])
        ON CONFLICT (node) DO UPDATE SET late = reading_counts.late + excluded.late,
          clock_suspect = reading_counts.clock_suspect + excluded.clock_suspect`;
  }

  /** Series ids for every (node, device, tag) of the outcomes, made where missing. */
  private async ensureSeries(sp: postgres.ISql, outcomes: readonly Outcome[]): Promise<void> {
    const missing = new Map<string, [string, string, string]>();
    for (const { chunk, rows } of outcomes)
      for (const r of rows ?? []) {
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

  private async setState(
    tx: postgres.ISql,
    chunk: StoredChunk,
    state: ChunkState,
    error: string | null,
  ): Promise<void> {
    // A chunk made `failed` here was inserted without its body when it was expected to decode.
    const body = state === "decoded" ? null : Buffer.from(chunk.body);
    await tx`UPDATE telemetry_chunks SET state = ${state}, error = ${error}, body = ${body}
      WHERE node = ${chunk.node} AND chunk_id = ${chunk.chunkId}`;
  }
}

function failed(chunk: StoredChunk, error: string): Outcome {
  return { chunk, state: "failed", error: error.slice(0, 1024) };
}

function* timesOf(outcomes: readonly Outcome[]): Generator<number> {
  for (const o of outcomes) for (const r of o.rows ?? []) yield r.ts;
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
