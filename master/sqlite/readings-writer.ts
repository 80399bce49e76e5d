import Database from "better-sqlite3";
import { telemetryMessages } from "../fanout/telemetry-message.js";
import { decodeChunk } from "../readings/chunk-decoder.js";
import { keptReadings } from "../readings/kept-readings.js";
import type { DecodedRecord } from "../readings/record-reader.js";
import { type ReaderOrError, RecordReaders } from "../readings/record-readers.js";
import type { RetentionPolicy } from "../readings/retention-policy.js";
import { mergeRollups } from "../readings/rollup.js";
import { VALUE_KIND } from "../readings/value-kind.js";
import type { IngestResult, StoredChunk } from "../store.js";
import { RollupRows } from "./rollup-rows.js";
import { type Row, toChunk } from "./rows.js";

type ChunkState = "decoded" | "awaiting_schema" | "failed";

/**
 * Chunks into the store, decoded into readings in the caller's transaction: the chunk
 * row (the (node, chunk id) dedupe record, which outlives the body) and its readings
 * commit together or not at all. A chunk whose schema is not stored yet is kept raw
 * (`awaiting_schema`) until `decodeAwaiting` runs in the schema's transaction; one that
 * does not decode, or whose rows the table refuses, is kept raw as `failed` with the
 * reason. Neither fails the transaction: only the database itself failing does.
 *
 * Retention applies as readings arrive, against the time they arrive (the chunk's
 * `receivedAt`, or the schema's time for chunks that awaited it): a reading already
 * past its stream's raw retention is not stored raw but counted `expired`; a good
 * numeric one is still merged into its minute's rollup unless that minute is past the
 * rollup retention too. Rollups are merged in the chunk's savepoint, so a chunk's raw
 * rows and its share of the rollups commit or roll back together.
 *
 * With the outbox on, a chunk decoded into readings (on ingest, or when its schema came)
 * also gets its messages for NATS JetStream in the same transaction, every record of it
 * whatever the retention keeps raw; a duplicate or a chunk kept raw gets none.
 */
export class ReadingsWriter {
  readonly readers: RecordReaders;
  private readonly exists: Database.Statement;
  private readonly insertChunk: Database.Statement;
  private readonly setState: Database.Statement;
  private readonly awaiting: Database.Statement;
  private readonly awaitingChunk: Database.Statement;
  private readonly insertSeries: Database.Statement;
  private readonly selectSeries: Database.Statement;
  private readonly insertReading: Database.Statement;
  private readonly count: Database.Statement;
  private readonly insertOutbox: Database.Statement;
  private readonly rollups: RollupRows;
  private readonly storeDecoded: (chunk: StoredChunk, rows: DecodedRecord[], now: number) => void;
  /** node → device → tag → series id; ids added by a transaction that failed are forgotten. */
  private readonly seriesIds = new Map<string, Map<string, Map<string, number>>>();
  private addedSeries: [string, string, string][] = [];

  constructor(
    db: Database.Database,
    private readonly policy: RetentionPolicy,
    /** Whether decoded chunks get their outbox messages (see store.ts StoreOptions). */
    private readonly outbox = false,
  ) {
    const schemaText = db.prepare("SELECT json FROM schemas WHERE fingerprint = ?").pluck();
    this.readers = new RecordReaders((fp) => schemaText.get(Buffer.from(fp)) as string | undefined);
    this.exists = db.prepare("SELECT 1 FROM telemetry_chunks WHERE node = ? AND chunk_id = ?");
    this.insertChunk = db.prepare(`INSERT INTO telemetry_chunks
      (node, chunk_id, stream, schema, created_at, first_seq, last_seq, records, compression,
        body, state, error, received_at)
      VALUES (@node, @chunkId, @stream, @schema, @createdAt, @firstSeq, @lastSeq, @records,
        @compression, @body, @state, @error, @receivedAt)`);
    this.setState = db.prepare(`UPDATE telemetry_chunks SET state = @state, error = @error,
      body = CASE WHEN @state = 'decoded' AND NOT @keep THEN NULL ELSE body END
      WHERE node = @node AND chunk_id = @chunkId`);
    this.awaiting = db.prepare(`SELECT node, chunk_id FROM telemetry_chunks
      WHERE state = 'awaiting_schema' AND schema = ? ORDER BY rowid`);
    this.awaitingChunk = db.prepare(
      "SELECT * FROM telemetry_chunks WHERE node = ? AND chunk_id = ?",
    );
    this.insertSeries = db.prepare(
      "INSERT INTO series (node, device, tag) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    );
    this.selectSeries = db
      .prepare("SELECT id FROM series WHERE node = ? AND device = ? AND tag = ?")
      .pluck();
    this.insertReading = db.prepare(`INSERT INTO readings
      (series, ts, seq, chunk_id, stream, kind, value, quality, status, unit, extra)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.count = db.prepare(`INSERT INTO reading_counts (node, late, clock_suspect, expired)
      VALUES (?, ?, ?, ?)
      ON CONFLICT (node) DO UPDATE SET late = late + excluded.late,
        clock_suspect = clock_suspect + excluded.clock_suspect,
        expired = expired + excluded.expired`);
    this.insertOutbox = db.prepare(`INSERT INTO telemetry_outbox
      (node, stream, chunk_id, part, parts, readings, payload, created_at)
      VALUES (@node, @stream, @chunkId, @part, @parts, @readings, @payload, @at)`);
    this.rollups = new RollupRows(db);
    // A savepoint per chunk: rows the table refuses undo that chunk's rows only.
    this.storeDecoded = db.transaction((chunk: StoredChunk, rows: DecodedRecord[], now: number) =>
      this.insertRows(chunk, rows, now),
    );
  }

  /** Stores chunks; call inside a transaction (see the class comment). */
  ingest(chunks: readonly StoredChunk[]): IngestResult[] {
    return chunks.map((chunk) => {
      if (this.exists.get(chunk.node, chunk.chunkId) !== undefined) return { duplicate: true };
      const reader = this.readers.get(chunk.schema);
      if (!reader) this.insertRaw(chunk, "awaiting_schema", null);
      else this.decodeInto(chunk, reader, false, chunk.receivedAt);
      return { duplicate: false };
    });
  }

  /**
   * Decodes every chunk that awaited this schema, `now` being when the schema came; call
   * inside the schema's transaction.
   */
  decodeAwaiting(fingerprint: Uint8Array, now: number): number {
    const reader = this.readers.get(fingerprint);
    if (!reader) return 0;
    // Keys first: better-sqlite3 cannot write while a statement is being iterated.
    const keys = this.awaiting.all(Buffer.from(fingerprint)) as Row[];
    for (const key of keys) {
      const row = this.awaitingChunk.get(key.node, key.chunk_id) as Row;
      this.decodeInto(toChunk(row), reader, true, now);
    }
    return keys.length;
  }

  /** Forgets what a transaction that rolled back added (call on its failure). */
  rolledBack(): void {
    for (const [node, device, tag] of this.addedSeries)
      this.seriesIds.get(node)?.get(device)?.delete(tag);
    this.addedSeries = [];
  }

  /** Retention deleted a series: its id must not be used again. */
  forgetSeries(node: string, device: string, tag: string): void {
    this.seriesIds.get(node)?.get(device)?.delete(tag);
  }

  /** A transaction committed: the series it added are real. */
  committed(): void {
    this.addedSeries = [];
  }

  private decodeInto(
    chunk: StoredChunk,
    reader: ReaderOrError,
    stored: boolean,
    now: number,
  ): void {
    let error = "";
    if ("error" in reader) error = reader.error;
    else {
      let rows: DecodedRecord[] | undefined;
      try {
        rows = decodeChunk(chunk, reader.read);
      } catch (err) {
        error = (err as Error).message;
      }
      if (rows) {
        try {
          this.storeDecoded(chunk, rows, now);
          if (this.outbox)
            for (const m of telemetryMessages(chunk, rows))
              this.insertOutbox.run({ ...m, at: now });
          if (stored) this.setState.run({ ...this.stateOf(chunk, "decoded"), error: null });
          else this.insertRaw(chunk, "decoded", null);
          return;
        } catch (err) {
          if (!isRowRefused(err)) throw err;
          this.rolledBack();
          error = `readings refused by the store (${(err as Error).message})`;
        }
      }
    }
    error = error.slice(0, 1024);
    if (stored) this.setState.run({ ...this.stateOf(chunk, "failed"), error });
    else this.insertRaw(chunk, "failed", error);
  }

  private insertRaw(chunk: StoredChunk, state: ChunkState, error: string | null): void {
    this.insertChunk.run({
      ...chunk,
      schema: Buffer.from(chunk.schema),
      body: state === "decoded" && !this.keepsBodies() ? null : Buffer.from(chunk.body),
      state,
      error,
    });
  }

  /** Whether decoded bodies are kept for replay (the retention job drops them later). */
  private keepsBodies(): boolean {
    return this.policy.keepChunksMs > 0;
  }

  private stateOf(chunk: StoredChunk, state: ChunkState) {
    return { ...keyOf(chunk), state, keep: this.keepsBodies() ? 1 : 0 };
  }

  private insertRows(chunk: StoredChunk, rows: DecodedRecord[], now: number): void {
    const kept = keptReadings(chunk, rows, this.policy, now);
    for (const r of kept.raw)
      this.insertReading.run(
        this.seriesId(chunk.node, r.device, r.tag),
        r.ts,
        r.seq,
        chunk.chunkId,
        chunk.stream,
        r.kind,
        bindable(r),
        r.quality,
        r.status,
        r.unit,
        r.extra,
      );
    for (const { device, tag, minute, state } of kept.minutes) {
      const series = this.seriesId(chunk.node, device, tag);
      const stored = this.rollups.get(series, minute, chunk.stream);
      this.rollups.put(series, minute, chunk.stream, stored ? mergeRollups(stored, state) : state);
    }
    if (kept.late > 0 || kept.suspect > 0 || kept.expired > 0)
      this.count.run(chunk.node, kept.late, kept.suspect, kept.expired);
  }

  private seriesId(node: string, device: string, tag: string): number {
    let devices = this.seriesIds.get(node);
    if (!devices) {
      devices = new Map();
      this.seriesIds.set(node, devices);
    }
    let tags = devices.get(device);
    if (!tags) {
      tags = new Map();
      devices.set(device, tags);
    }
    const known = tags.get(tag);
    if (known !== undefined) return known;
    this.insertSeries.run(node, device, tag);
    const id = this.selectSeries.get(node, device, tag) as number;
    tags.set(tag, id);
    this.addedSeries.push([node, device, tag]);
    return id;
  }
}

/** A value as SQLite takes it: uint64 as its two's complement, booleans as 0/1 integers. */
function bindable(r: DecodedRecord): unknown {
  switch (r.kind) {
    case VALUE_KIND.uint64:
      return BigInt.asIntN(64, r.value as bigint);
    case VALUE_KIND.bool:
      return r.value ? 1n : 0n;
    default:
      return r.value;
  }
}

/** A constraint the readings table holds (a row it refuses), not the database failing. */
function isRowRefused(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.code.startsWith("SQLITE_CONSTRAINT");
}

function keyOf(chunk: StoredChunk): { node: string; chunkId: number } {
  return { node: chunk.node, chunkId: chunk.chunkId };
}
