import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { SqliteStore, type StoreOptions } from "../../master/index.js";
import { MIGRATIONS } from "../../master/sqlite/migrations.js";
import {
  collect,
  collectPages,
  RECORD_SCHEMA_FINGERPRINT,
  RECORD_SCHEMA_TEXT,
  recordChunk,
} from "../helpers/record-chunks.js";
import { storeConformance } from "./store-conformance.js";

storeConformance("SQLite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "outpost-store-"));
  const path = join(dir, "master.db");
  const fixture = {
    store: SqliteStore.open(path),
    async reopen(options?: StoreOptions) {
      await fixture.store.close();
      fixture.store = SqliteStore.open(path, options);
      return fixture.store;
    },
    async cleanup() {
      await fixture.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
});

describe("SqliteStore", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-store-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("opens in WAL mode with full sync and records the schema version", async () => {
    const path = join(dir, "master.db");
    await SqliteStore.open(path).close();
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(db.pragma("user_version", { simple: true }), MIGRATIONS.length);
    db.close();
  });

  it("refuses a database written by a newer master", () => {
    const path = join(dir, "master.db");
    const db = new Database(path);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    assert.throws(() => SqliteStore.open(path), {
      code: "E_MASTER_STORE_VERSION",
      message: new RegExp(
        `schema version ${MIGRATIONS.length + 1} is newer than this master supports \\(${MIGRATIONS.length}\\)`,
      ),
    });
  });

  it("migrates a database of the first schema, keeping its instances (no parent)", async () => {
    const path = join(dir, "master.db");
    const db = new Database(path);
    db.exec(MIGRATIONS[0] ?? "");
    db.pragma("user_version = 1");
    db.exec(`INSERT INTO nodes (name, public_key, added_at) VALUES ('gw', 'k', 1);
      INSERT INTO instances (name, software, parameters, node, partition, cores, requested_state,
        status, created_at, updated_at) VALUES ('e', 'sw', '{}', 'gw', 0, '[]', 'started', 'pending', 1, 1)`);
    db.close();
    const store = SqliteStore.open(path);
    assert.equal((await store.getInstance("e"))?.parent, null);
    await store.close();
  });

  it("migrates chunks stored before readings: they await their schema, then decode once", async () => {
    const path = join(dir, "master.db");
    const db = new Database(path);
    for (const m of MIGRATIONS.slice(0, 5)) db.exec(m);
    db.pragma("user_version = 5");
    const chunk = recordChunk("gw", 4, [
      { device: "d", tag: "t", ts: Date.now(), value: 2n ** 63n, quality: "good" },
    ]);
    db.prepare(`INSERT INTO telemetry_chunks (node, chunk_id, stream, schema, created_at,
        first_seq, last_seq, records, compression, body, received_at)
        VALUES (@node, @chunkId, @stream, @schema, @createdAt, @firstSeq, @lastSeq, @records,
        @compression, @body, @receivedAt)`).run(chunk);
    db.close();
    const store = SqliteStore.open(path);
    try {
      assert.deepEqual(await store.ingestChunks([chunk]), [{ duplicate: true }]);
      assert.equal((await store.readingCounts())[0]?.awaitingSchema, 1);
      assert.deepEqual(
        await store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, Date.now()),
        { duplicate: false, decodedChunks: 1 },
      );
      const readings = await collectPages(store.readingPages({ from: 0, to: 2 ** 52 }));
      assert.deepEqual(
        readings.map((r) => [r.node, r.seq, r.value]),
        [["gw", 4001, 2n ** 63n]],
      );
    } finally {
      await store.close();
    }
  });

  it("migrates readings stored before rollups: their minutes are rolled up as the raw rows give them", async () => {
    const path = join(dir, "master.db");
    const db = new Database(path);
    for (const m of MIGRATIONS.slice(0, 6)) db.exec(m);
    db.pragma("user_version = 6");
    const m = 1_750_000_020_000 - (1_750_000_020_000 % 60_000);
    db.exec("INSERT INTO series (id, node, device, tag) VALUES (1, 'gw', 'd', 't')");
    const insert = db.prepare(`INSERT INTO readings (series, ts, seq, chunk_id, stream, kind, value,
      quality, unit) VALUES (1, ?, ?, 1, 'telemetry', ?, ?, ?, ?)`);
    insert.run(m + 1_000, 1, 1, 2.5, "good", "rpm");
    insert.run(m + 2_000, 2, 3, -1n, "good", null); // uint64 2^64-1, as its two's complement
    insert.run(m + 3_000, 3, 4, 1n, "good", null);
    insert.run(m + 3_000, 4, 1, null, "good", "rpm"); // NaN: the last reading, not counted
    insert.run(m + 4_000, 5, 5, "text", "good", null);
    insert.run(m + 5_000, 6, 2, 100n, "uncertain", null);
    insert.run(m + 61_000, 7, 2, 7n, "good", "Hz");
    db.close();
    const store = SqliteStore.open(path);
    try {
      const answer = async (agg: "avg" | "min" | "max" | "last" | "count") =>
        (
          await collect(store.aggregateReadings({ from: m, to: m + 120_000, stepMs: 60_000, agg }))
        ).map((p) => [p.ts - m, p.value, p.count, p.unit]);
      assert.deepEqual(await answer("min"), [
        [0, 1, 3, "rpm"],
        [60_000, 7, 1, "Hz"],
      ]);
      assert.deepEqual(await answer("max"), [
        [0, 2 ** 64, 3, "rpm"],
        [60_000, 7, 1, "Hz"],
      ]);
      assert.deepEqual(await answer("avg"), [
        [0, (2.5 + 2 ** 64 + 1) / 3, 3, "rpm"],
        [60_000, 7, 1, "Hz"],
      ]);
      assert.deepEqual(await answer("last"), [
        [0, null, 3, "rpm"],
        [60_000, 7, 1, "Hz"],
      ]);
      // Readings after the migration merge into the migrated minutes.
      await store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, m);
      await store.ingestChunks([
        recordChunk("gw", 9, [
          { device: "d", tag: "t", ts: m + 59_000, value: 0.5, quality: "good" },
        ]),
      ]);
      assert.deepEqual((await answer("min"))[0], [0, 0.5, 4, undefined]);
    } finally {
      await store.close();
    }
  });

  it("never fails the ingest transaction for rows the readings table refuses: that chunk alone is kept raw", async () => {
    const store = SqliteStore.open(join(dir, "master.db"));
    try {
      await store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, Date.now());
      // Refused by a trigger here; in life, a constraint the decoder's checks missed.
      const db = new Database(join(dir, "master.db"));
      db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON readings WHEN NEW.quality = 'poison'
        BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`);
      db.close();
      const at = Date.now();
      const results = await store.ingestChunks([
        recordChunk("gw-1", 1, [{ device: "d", tag: "a", ts: at, value: 1, quality: "good" }]),
        recordChunk("gw-2", 1, [
          { device: "d", tag: "new-tag", ts: at, value: 2, quality: "good" },
          { device: "d", tag: "b", ts: at, value: 3, quality: "poison" },
        ]),
        recordChunk("gw-3", 1, [
          { device: "d", tag: "new-tag", ts: at, value: 4, quality: "good" },
        ]),
      ]);
      assert.deepEqual(
        results.map((r) => r.duplicate),
        [false, false, false],
      );
      const readings = await collectPages(store.readingPages({ from: 0, to: 2 ** 52 }));
      assert.deepEqual(
        readings.map((r) => [r.node, r.tag, r.value]),
        [
          ["gw-1", "a", 1],
          ["gw-3", "new-tag", 4],
        ],
      );
      // The series the refused chunk added went with it, and is made again when needed.
      await store.ingestChunks([
        recordChunk("gw-2", 2, [
          { device: "d", tag: "new-tag", ts: at, value: 5, quality: "good" },
        ]),
      ]);
      assert.deepEqual(
        (await collectPages(store.readingPages({ node: "gw-2", from: 0, to: 2 ** 52 }))).map(
          (r) => r.value,
        ),
        [5],
      );
      const [failure] = await store.decodeFailures();
      assert.equal(failure?.node, "gw-2");
      assert.match(failure?.error ?? "", /readings refused by the store \(poisoned row\)/);
    } finally {
      await store.close();
    }
  });
});
