import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import {
  MasterClient,
  openDataDir,
  parseRetention,
  placeInstance,
  type StoreOptions,
  startMaster,
} from "../../master/index.js";
import { MIGRATIONS } from "../../master/postgres/migrations.js";
import { dayOf, partitionName } from "../../master/postgres/partitions.js";
import { PgStore } from "../../master/postgres/pg-store.js";
import { generateKeyPair } from "../../protocol/index.js";
import {
  type PostgresServer,
  startPostgres,
  TEST_ROLE,
  usePassfile,
} from "../helpers/postgres-server.js";
import {
  collect,
  collectPages,
  RECORD_SCHEMA_FINGERPRINT,
  RECORD_SCHEMA_TEXT,
  recordChunk,
} from "../helpers/record-chunks.js";
import { eventually } from "../helpers/until.js";
import { echo } from "./store-conformance/case.js";
import { storeConformance } from "./store-conformance.js";

// A describe of its own: root-level hooks would run for the whole suite, each file's
// server (and PGPASSFILE) set before any test of any file.
describe("PostgreSQL store (one server for this file)", () => {
  const DAY = 86_400_000;

  /** One server for the file; each case gets a database of its own. */
  let server: PostgresServer;
  let restorePassfile: (() => void) | undefined;
  before(async function () {
    this.timeout(60_000);
    server = await startPostgres();
    // The store finds the test role's password where a master would: the password file.
    restorePassfile = usePassfile(server.passfile);
  });
  after(async () => {
    restorePassfile?.();
    await server?.stop();
  });

  async function freshStore(): Promise<{ store: PgStore; url: string; name: string }> {
    const { name, url } = await server.createDatabase();
    return { store: await PgStore.open(url), url, name };
  }

  storeConformance("PostgreSQL", async () => {
    const { store, url, name } = await freshStore();
    const fixture = {
      store,
      async reopen(options?: StoreOptions) {
        await fixture.store.close();
        fixture.store = await PgStore.open(url, options);
        return fixture.store;
      },
      async cleanup() {
        await fixture.store.close();
        await server.dropDatabase(name);
      },
    };
    return fixture;
  });

  describe("PgStore", () => {
    /** A good reading of tag `t` of device `d`. */
    const rec = (ts: number, value: number) => ({
      device: "d",
      tag: "t",
      ts,
      value,
      quality: "good",
    });
    let store: PgStore;
    let name: string;
    let url: string;
    beforeEach(async () => {
      ({ store, name, url } = await freshStore());
    });
    afterEach(async () => {
      await store.close();
      await server.dropDatabase(name);
    });

    async function partitions(): Promise<string[]> {
      const admin = server.admin(name);
      try {
        const rows = await admin`SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass
        ORDER BY c.relname`;
        return rows.map((r) => String(r.relname));
      } finally {
        await admin.end();
      }
    }

    it("records the schema version, and refuses a database written by a newer master", async () => {
      const admin = server.admin(name);
      try {
        assert.deepEqual(
          [...(await admin`SELECT version FROM schema_version`)],
          [{ version: MIGRATIONS.length }],
        );
        await admin`UPDATE schema_version SET version = ${MIGRATIONS.length + 1}`;
      } finally {
        await admin.end();
      }
      await assert.rejects(PgStore.open(url), {
        code: "E_MASTER_STORE_VERSION",
        message: new RegExp(
          `schema version ${MIGRATIONS.length + 1} is newer than this master supports \\(${MIGRATIONS.length}\\)`,
        ),
      });
    });

    it("migrates readings stored before rollups: their minutes are rolled up, NaN and uint64 as ingest does", async () => {
      await store.close();
      await server.dropDatabase(name);
      ({ name, url } = await server.createDatabase());
      const admin = server.admin(name);
      const minute = Date.UTC(2025, 0, 1, 12, 30);
      try {
        // As the store's role: the tables are its own, as a master of the first version left them.
        await admin.unsafe(`SET ROLE ${TEST_ROLE}; ${MIGRATIONS[0]};
        CREATE TABLE schema_version (version integer NOT NULL);
        INSERT INTO schema_version VALUES (1);
        INSERT INTO series (node, device, tag) VALUES ('gw-1', 'd', 't');
        INSERT INTO readings (series, ts, seq, chunk_id, stream, kind, v_double, v_int, quality, unit)
        VALUES (1, ${minute + 1000}, 1, 1, 's', 1, 2.5, NULL, 'good', 'rpm'),
          (1, ${minute + 2000}, 2, 1, 's', 3, NULL, -1, 'good', 'rpm'),
          (1, ${minute + 3000}, 3, 1, 's', 1, 100, NULL, 'bad', 'rpm'),
          (1, ${minute + 4000}, 4, 1, 's', 1, 'NaN', NULL, 'good', 'Hz')`);
      } finally {
        await admin.end();
      }
      store = await PgStore.open(url);
      const query = { from: minute, to: minute + 60_000, stepMs: 60_000 };
      const point = async (agg: "avg" | "min" | "max" | "last" | "count") =>
        (await collect(store.aggregateReadings({ ...query, agg }))).map((p) => [
          p.value,
          p.count,
          p.unit,
        ]);
      assert.deepEqual(await point("count"), [[2, 2, "Hz"]]);
      assert.deepEqual(await point("min"), [[2.5, 2, "Hz"]]);
      assert.deepEqual(await point("max"), [[2 ** 64 - 1, 2, "Hz"]]);
      assert.deepEqual(await point("last"), [[null, 2, "Hz"]], "the last reading was NaN");
    });

    it("migrates a database from before several masters: the cores placed and the chunks stored are counted in", async () => {
      await store.close();
      await server.dropDatabase(name);
      ({ name, url } = await server.createDatabase());
      const admin = server.admin(name);
      try {
        await admin.unsafe(`SET ROLE ${TEST_ROLE}; ${MIGRATIONS[0]}; ${MIGRATIONS[1]};
        CREATE TABLE schema_version (version integer NOT NULL);
        INSERT INTO schema_version VALUES (2);
        INSERT INTO nodes (name, public_key, added_at, partitions, isolated_cores)
          VALUES ('gw-1', 'k', 1, 2, '{2,3}');
        INSERT INTO instances (name, software, parameters, node, partition, cores,
            requested_state, status, created_at, updated_at)
          VALUES ('rt', 's', '{}', 'gw-1', 0, '{2,3}', 'started', 'running', 1, 1);
        INSERT INTO telemetry_chunks (node, chunk_id, stream, schema, created_at, first_seq,
            last_seq, records, compression, state, received_at)
          VALUES ('gw-1', 1, 's', '\\x00', 1, 0, 9, 10, 'none', 'decoded', 500),
            ('gw-1', 2, 's', '\\x00', 1, 10, 14, 5, 'none', 'decoded', 700)`);
      } finally {
        await admin.end();
      }
      store = await PgStore.open(url);
      const status = await store.shared.telemetryStatus(Date.now());
      assert.deepEqual(status.nodes, { "gw-1": { records: 15, chunks: 2, lastChunkAt: 700 } });
      await assert.rejects(
        store.requestInstance(
          { name: "x", software: "s", parameters: {}, cores: 1 },
          () => ({
            node: "gw-1",
            partition: 1,
            cores: [3],
          }),
          2,
        ),
        { code: "23505", constraint_name: "placed_cores_pkey" },
        "the cores placed before are known",
      );
    });

    it("makes a partition per day around now; absurd times go to the default partition and are still read", async () => {
      await store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, Date.now());
      const now = Date.now();
      const at1970 = 5_000;
      const at2300 = Date.UTC(2300, 0, 1);
      await store.ingestChunks([
        recordChunk(
          "gw-1",
          1,
          [rec(at1970, 1), rec(now - DAY, 2), rec(now, 3), rec(now + DAY, 4), rec(at2300, 5)],
          {
            receivedAt: now,
          },
        ),
      ]);
      assert.deepEqual(await partitions(), [
        "readings_default",
        partitionName(dayOf(now - DAY)),
        partitionName(dayOf(now)),
        partitionName(dayOf(now + DAY)),
      ]);
      const admin = server.admin(name);
      try {
        const inDefault = await admin`SELECT ts FROM readings_default ORDER BY ts`;
        assert.deepEqual(
          inDefault.map((r) => Number(r.ts)),
          [at1970, at2300],
        );
        const [day] =
          await admin`SELECT count(*)::int AS n FROM ${admin(partitionName(dayOf(now)))}`;
        assert.equal(day?.n, 1);
        const [view] = await admin`SELECT time, value FROM readings_view WHERE ts = ${now}`;
        assert.equal((view?.time as Date | undefined)?.getTime(), now);
        assert.equal(view?.value, 3);
      } finally {
        await admin.end();
      }
      const got = await collectPages(store.readingPages({ from: 0, to: 2 ** 52 }));
      assert.deepEqual(
        got.map((r) => [r.ts, r.value]),
        [
          [at1970, 1],
          [now - DAY, 2],
          [now, 3],
          [now + DAY, 4],
          [at2300, 5],
        ],
      );
    });

    it("moves a day's readings out of the default partition when that day gets its own", async () => {
      await store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, Date.now());
      const now = Date.now();
      const ahead = dayOf(now) + 10 * DAY + 1_000; // beyond the window: default partition
      await store.ingestChunks([recordChunk("gw-1", 1, [rec(ahead, 1)], { receivedAt: now })]);
      assert.ok(!(await partitions()).includes(partitionName(dayOf(ahead))));
      await store.close();
      // A master whose clock reached that day makes its partition: the early row moves in.
      store = await PgStore.open(url, { now: () => ahead });
      await store.ingestChunks([
        recordChunk("gw-1", 2, [rec(ahead + 1, 2)], { receivedAt: ahead }),
      ]);
      assert.ok((await partitions()).includes(partitionName(dayOf(ahead))));
      assert.deepEqual(
        (await collectPages(store.readingPages({ from: 0, to: 2 ** 52 }))).map((r) => r.value),
        [1, 2],
      );
    });

    it("a series another master's retention deleted is made again, never written under its old id", async () => {
      // The attacker is time: master B cached the series' id, then master A's retention
      // found the series empty and deleted it. B's next readings of that tag must land
      // under a series that exists, or they would be stored yet never found.
      const now = Date.now();
      const retention = parseRetention(["*:1d:1d"]);
      const a = await PgStore.open(url, { retention });
      const b = await PgStore.open(url, { retention });
      try {
        await b.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, now);
        await b.ingestChunks([recordChunk("gw-1", 1, [rec(now - 60_000, 1)], { receivedAt: now })]);
        const later = now + 3 * DAY;
        const result = await a.applyRetention(later);
        assert.equal(result.series, 1, "A deleted the empty series");
        assert.deepEqual(await a.readingSeries(), []);
        await b.ingestChunks([recordChunk("gw-1", 2, [rec(now, 2)], { receivedAt: now })]);
        assert.deepEqual(await a.readingSeries(), [{ node: "gw-1", device: "d", tag: "t" }]);
        assert.deepEqual(
          (await collectPages(a.readingPages({ from: 0, to: 2 ** 52 }))).map((r) => r.value),
          [2],
        );
      } finally {
        await a.close();
        await b.close();
      }
    });

    describe("retention by day partition", () => {
      const MINUTE = 60_000;

      /** A store whose clock is `now`, keeping `specs`, with a day's partition of readings 3 days back. */
      async function withOldDay(specs: string[], now: number) {
        await store.close();
        store = await PgStore.open(url, { now: () => now, retention: parseRetention(specs) });
        await store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, now - 10 * DAY);
        const day = dayOf(now) - 3 * DAY;
        // Received the day they were stamped: stored raw, then aged past the raw retention.
        const chunk = (id: number, stream: string, values: number[]) =>
          recordChunk(
            "gw-1",
            id,
            values.map((v, i) => rec(day + 3_600_000 + i * 1_000, v)),
            { receivedAt: day + 4_000_000, stream },
          );
        return { day, chunk };
      }

      it("drops a whole day's partition past raw retention; its rollups stay and answer", async () => {
        const now = Date.now();
        const { day, chunk } = await withOldDay(["*:1d:30d"], now);
        await store.ingestChunks([chunk(1, "turbine", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])]);
        await store.ingestChunks([
          recordChunk("gw-1", 2, [rec(now, 99)], { receivedAt: now, stream: "turbine" }),
        ]);
        assert.ok((await partitions()).includes(partitionName(day)));
        const window = { from: day, to: day + DAY, stepMs: 60 * MINUTE, agg: "avg" as const };
        const before = await collect(store.aggregateReadings(window));

        const result = await store.applyRetention(now);
        assert.deepEqual(result, {
          readings: 10,
          rollups: 0,
          chunkBodies: 0,
          series: 0,
          complete: true,
        });
        assert.ok(!(await partitions()).includes(partitionName(day)), "gone from pg_inherits");
        const admin = server.admin(name);
        try {
          const [table] = await admin`SELECT to_regclass(${partitionName(day)}) AS t`;
          assert.equal(table?.t, null, "dropped, not left detached");
          const minutes =
            await admin`SELECT time, node, device, tag, min, max, avg, count, sum, last
          FROM rollups_view WHERE minute >= ${day} AND minute < ${day + DAY} ORDER BY minute`;
          assert.deepEqual(
            minutes.map((m) => [
              (m.time as Date).getTime() - day,
              Number(m.count),
              m.min,
              m.max,
              m.last,
            ]),
            [[3_600_000, 10, 1, 10, 10]],
          );
        } finally {
          await admin.end();
        }
        assert.deepEqual(await collect(store.aggregateReadings(window)), before);
        assert.deepEqual(
          before.map((p) => [p.ts - day, p.value, p.count]),
          [[3_600_000, 5.5, 10]],
        );
        assert.deepEqual(
          (await collectPages(store.readingPages({ from: 0, to: 2 ** 52 }))).map((r) => r.value),
          [99],
        );
        // A reading of that day arriving now is past raw retention: rolled up, no partition made.
        await store.ingestChunks([
          recordChunk("gw-1", 3, [rec(day + 3_600_000 + 500, 0)], { receivedAt: now }),
        ]);
        assert.ok(!(await partitions()).includes(partitionName(day)));
        const [after] = await collect(store.aggregateReadings({ ...window, agg: "count" }));
        assert.equal(after?.value, 11);
      });

      it("waits for a transaction using readings before it detaches, without holding ingest back", async () => {
        const now = Date.now();
        const { day, chunk } = await withOldDay(["*:1d:30d"], now);
        await store.ingestChunks([chunk(1, "turbine", [1, 2])]);
        // Today's partition made beforehand: attaching one waits for readers of the default partition.
        await store.ingestChunks([
          recordChunk("gw-1", 2, [rec(now, 1)], { receivedAt: now, stream: "turbine" }),
        ]);
        const admin = server.admin(name);
        try {
          let retention: Promise<unknown> | undefined;
          let ingestMs = 0;
          await admin.begin(async (tx) => {
            // A long reader of readings: DETACH cannot have the table until it ends.
            await tx`SELECT count(*) FROM readings`;
            retention = store.applyRetention(now);
            await new Promise((resolve) => setTimeout(resolve, 300));
            const started = performance.now();
            await store.ingestChunks([
              recordChunk("gw-1", 3, [rec(now + 1, 1)], { receivedAt: now, stream: "turbine" }),
            ]);
            ingestMs = performance.now() - started;
            assert.ok((await partitions()).includes(partitionName(day)), "not detached yet");
          });
          assert.deepEqual(await retention, {
            readings: 2,
            rollups: 0,
            chunkBodies: 0,
            series: 0,
            complete: true,
          });
          assert.ok(!(await partitions()).includes(partitionName(day)));
          // Ingest waits at most one lock_timeout of retention's (100 ms) behind its DETACH.
          assert.ok(ingestMs < 1_000, `ingest took ${ingestMs} ms while retention waited`);
        } finally {
          await admin.end();
        }
      });

      it("keeps a day's partition holding a stream kept longer: deletes the others' rows from it", async () => {
        const now = Date.now();
        const { day, chunk } = await withOldDay(["*:1d:30d", "audit:forever:forever"], now);
        await store.ingestChunks([chunk(1, "turbine", [1, 2, 3]), chunk(2, "audit", [7])]);
        const result = await store.applyRetention(now);
        assert.deepEqual(result, {
          readings: 3,
          rollups: 0,
          chunkBodies: 0,
          series: 0,
          complete: true,
        });
        assert.ok((await partitions()).includes(partitionName(day)), "still attached");
        assert.deepEqual(
          (await collectPages(store.readingPages({ from: 0, to: 2 ** 52 }))).map((r) => [
            r.stream,
            r.value,
          ]),
          [["audit", 7]],
        );
      });
    });

    it("never fails the ingest transaction for rows the readings table refuses: that chunk alone is kept raw", async () => {
      await store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, Date.now());
      // Refused by a trigger here; in life, a value PostgreSQL cannot hold (NUL in text).
      const admin = server.admin(name);
      try {
        await admin.unsafe(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN RAISE EXCEPTION 'poisoned row'; END $$;
        CREATE TRIGGER refuse BEFORE INSERT ON readings FOR EACH ROW
          WHEN (NEW.quality = 'poison') EXECUTE FUNCTION refuse()`);
      } finally {
        await admin.end();
      }
      const at = Date.now();
      const rec = (tag: string, value: number | string, quality = "good") => ({
        device: "d",
        tag,
        ts: at,
        value,
        quality,
      });
      const results = await store.ingestChunks([
        recordChunk("gw-1", 1, [rec("a", 1)]),
        recordChunk("gw-2", 1, [rec("new-tag", 2), rec("b", 3, "poison")]),
        recordChunk("gw-3", 1, [rec("new-tag", 4)]),
        recordChunk("gw-4", 1, [rec("s", "nul \u0000 inside")]),
      ]);
      assert.deepEqual(
        results.map((r) => r.duplicate),
        [false, false, false, false],
      );
      assert.deepEqual(
        (await collectPages(store.readingPages({ from: 0, to: 2 ** 52 }))).map((r) => [
          r.node,
          r.tag,
          r.value,
        ]),
        [
          ["gw-1", "a", 1],
          ["gw-3", "new-tag", 4],
        ],
      );
      // The series the refused chunk added went with it, and is made again when needed.
      assert.deepEqual(await store.readingSeries({ node: "gw-2" }), []);
      await store.ingestChunks([recordChunk("gw-2", 2, [rec("new-tag", 5)])]);
      assert.deepEqual(
        (await collectPages(store.readingPages({ node: "gw-2", from: 0, to: 2 ** 52 }))).map(
          (r) => r.value,
        ),
        [5],
      );
      const failures = await store.decodeFailures();
      assert.deepEqual(failures.map((f) => f.node).sort(), ["gw-2", "gw-4"]);
      const why = Object.fromEntries(failures.map((f) => [f.node, f.error]));
      assert.match(why["gw-2"] ?? "", /readings refused by the store \(poisoned row\)/);
      assert.match(why["gw-4"] ?? "", /readings refused by the store/);
      const [raw] = await store.queryChunks({ node: "gw-2", withBody: true });
      assert.ok((raw?.body.length ?? 0) > 0, "a refused chunk keeps its body");
    });

    it("an ingest PostgreSQL undoes as a deadlock's victim is run again and stores the chunk once", async function () {
      this.timeout(30_000);
      await store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, Date.now());
      const admin = server.admin(name);
      try {
        // The store's sessions check for a deadlock after 3 s of waiting, the other side's
        // after 30 s: the ingest is the one PostgreSQL undoes.
        await admin.unsafe(`ALTER DATABASE "${name}" SET deadlock_timeout = '3s'`);
        await store.close();
        store = await PgStore.open(url);
        const at = Date.now();
        const chunk = recordChunk("gw-1", 1, [rec(at, 1)]);
        let settled = false;
        let ingest: Promise<unknown> | undefined;
        // Another master storing the same chunk, taking the rows in the other order.
        const other = admin.begin(async (tx) => {
          await tx`SET LOCAL deadlock_timeout = '30s'`;
          await tx`INSERT INTO node_telemetry (node, chunks, records, last_chunk_at)
            VALUES ('gw-1', 1, 1, ${at})`;
          ingest = store.ingestChunks([chunk]).finally(() => {
            settled = true;
          });
          await eventually("the ingest waiting on the node's row", 10_000, async () => {
            const [row] = await admin`SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = ${name} AND wait_event_type = 'Lock'`;
            return row?.n === 1 ? true : undefined;
          });
          // Waits on the ingest's chunk row until PostgreSQL undoes the ingest.
          await tx`INSERT INTO telemetry_chunks (node, chunk_id, stream, schema, created_at,
              first_seq, last_seq, records, compression, state, received_at)
            VALUES ('gw-1', 1, 'telemetry', ${Buffer.from(chunk.schema)}, 1000, 1001, 1001, 1,
              'none', 'decoded', ${at})`;
          assert.equal(settled, false, "the ingest went on while the other side held its row");
          throw new Error("the other master rolls back");
        });
        await assert.rejects(other, /the other master rolls back/);
        assert.deepEqual(await ingest, [{ duplicate: false }]);
        assert.deepEqual(
          (await collectPages(store.readingPages({ from: 0, to: 2 ** 52 }))).map((r) => r.value),
          [1],
        );
        // Counted once: the other side's row went with its rollback.
        assert.deepEqual(
          [...(await admin`SELECT node, chunks::int, records::int FROM node_telemetry`)],
          [{ node: "gw-1", chunks: 1, records: 1 }],
        );
      } finally {
        await admin.end();
      }
    });

    it("a master started with --store postgres://… keeps its state there; other stores are refused naming --store", async () => {
      const dir = mkdtempSync(join(tmpdir(), "outpost-master-"));
      const options = {
        data: join(dir, "data"),
        listen: "tcp://127.0.0.1:*",
        http: "127.0.0.1:0",
        logger: pino({ level: "silent" }),
      };
      try {
        for (const bad of ["mysql://u@h/db", "postgres://outpost:s3cret@/db"])
          await assert.rejects(startMaster({ ...options, store: bad }), {
            code: "E_MASTER_INVALID",
            message: /^--store: /,
          });
        assert.ok(!existsSync(options.data), "refused before the data directory is made");
        const master = await startMaster({ ...options, store: url });
        try {
          const client = new MasterClient(master.url, openDataDir(options.data).adminToken);
          await client.addNode("gw-1", generateKeyPair().publicKey);
        } finally {
          await master.close();
        }
        assert.ok(!existsSync(join(options.data, "master.db")), "no SQLite file");
        assert.equal((await store.getNode("gw-1"))?.name, "gw-1");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("refuses a URL holding a password, naming --store and not the password", async () => {
      await assert.rejects(PgStore.open("postgres://outpost:s3cret@localhost/db"), (err: Error) => {
        assert.equal((err as { code?: string }).code, "E_MASTER_INVALID");
        assert.match(err.message, /^--store: the URL must not hold a password/);
        assert.doesNotMatch(err.message, /s3cret/);
        return true;
      });
    });

    it("says which server it cannot reach, or that the password was refused", async () => {
      await assert.rejects(
        PgStore.open(
          `postgres://outpost@/db?host=${encodeURIComponent(`${server.socketDir}-none`)}&port=${server.port}`,
        ),
        {
          code: "E_MASTER_STORE_UNAVAILABLE",
          message: new RegExp(`${server.socketDir}-none/\\.s\\.PGSQL\\.${server.port}`),
        },
      );
      const restore = usePassfile("/nonexistent");
      try {
        await assert.rejects(PgStore.open(url), {
          code: "E_MASTER_STORE_UNAVAILABLE",
          message: /password.*PGPASSWORD, PGPASSFILE or ~\/\.pgpass/,
        });
      } finally {
        restore();
      }
    });

    it("takes the password from PGPASSWORD", async () => {
      const restore = usePassfile("/nonexistent");
      process.env.PGPASSWORD = server.password;
      try {
        const other = await PgStore.open(url);
        await other.close();
      } finally {
        restore();
        delete process.env.PGPASSWORD;
      }
    });

    /** Node gw-1 (8 CPUs), registered with these partitions and isolated cores, echo supplied. */
    async function echoNode(partitions: number, isolatedCores: number[]): Promise<void> {
      await store.addNode("gw-1", "key-1", 1);
      const facts = { agentVersion: "0", arch: "x64", board: "b", cpus: 8 };
      await store.registerNode("gw-1", { ...facts, partitions, isolatedCores }, 1);
      await store.supply("gw-1", echo, 1);
    }

    it("refuses in the database a partition or core given twice, whatever the placer says", async () => {
      await echoNode(4, [2, 3]);
      // A placer that ignores the capacity it is shown: only the database stands in the way.
      const rogue = (partition: number, cores: number[]) => () => ({
        node: "gw-1",
        partition,
        cores,
      });
      const ask = (name: string, cores: number, placer: ReturnType<typeof rogue>, at: number) =>
        store.requestInstance({ name, software: echo, parameters: {}, cores }, placer, at);
      await ask("a", 1, rogue(0, [2]), 2);
      await assert.rejects(ask("b", 0, rogue(0, []), 3), {
        code: "23505",
        constraint_name: "instances_node_partition_key",
      });
      await assert.rejects(ask("c", 1, rogue(1, [2]), 3), {
        code: "23505",
        constraint_name: "placed_cores_pkey",
      });
      await assert.rejects(ask("d", 2, rogue(2, [3, 3]), 3), {
        code: "23505",
        constraint_name: "placed_cores_pkey",
      });
      assert.deepEqual(
        (await store.listInstances()).map((i) => i.name),
        ["a"],
        "nothing of a refused placement is kept",
      );
      // Freed with the instance, once its node reports it destroyed.
      await store.setRequestedState("a", "destroyed", 4);
      await store.applyReport(
        "gw-1",
        [{ name: "a", status: "destroyed", promises: [], connection: {} }],
        5,
      );
      const again = await ask("c", 1, rogue(0, [2]), 6);
      assert.deepEqual([again.partition, again.cores], [0, [2]]);
    });

    it("never gives one partition or core to two instances requested at once through two connections", async () => {
      const other = await PgStore.open(url);
      try {
        await echoNode(6, [2, 3, 4, 5]);
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) =>
            (i % 2 === 0 ? store : other).requestInstance(
              { name: `i${i}`, software: echo, parameters: {}, cores: i < 6 ? 1 : 0 },
              placeInstance,
              2,
            ),
          ),
        );
        const placed = (await store.listInstances()).filter((i) => i.partition !== null);
        assert.equal(placed.length, 6, "six partitions, six instances");
        const partitionsTaken = placed.map((i) => i.partition);
        assert.equal(new Set(partitionsTaken).size, partitionsTaken.length);
        const cores = placed.flatMap((i) => i.cores);
        assert.equal(new Set(cores).size, cores.length);
        assert.equal(cores.length, 4);
        for (const r of results)
          if (r.status === "rejected")
            assert.equal((r.reason as { code?: string }).code, "E_MASTER_NO_CAPACITY");
      } finally {
        await other.close();
      }
    });
  });
});
