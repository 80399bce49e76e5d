import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { TelemetryRecord } from "../../../collector/record.js";
import { silentLogger } from "../../../common/index.js";
import { JetStreamLink } from "../../../master/fanout/jetstream-link.js";
import { OutboxPublisher } from "../../../master/fanout/outbox-publisher.js";
import {
  MasterMetrics,
  type MasterStore,
  openDataDir,
  type PublisherOptions,
  SqliteStore,
  startMaster,
} from "../../../master/index.js";
import { PgStore } from "../../../master/postgres/pg-store.js";
import type { Chunk, NodeLink } from "../../../protocol/index.js";
import {
  dropTelemetryStream,
  type NatsServer,
  startNats,
  telemetryStream,
} from "../../helpers/nats-server.js";
import { type PostgresServer, startPostgres, usePassfile } from "../../helpers/postgres-server.js";
import {
  RECORD_SCHEMA_FINGERPRINT,
  RECORD_SCHEMA_TEXT,
  recordChunk,
} from "../../helpers/record-chunks.js";
import { eventually } from "../../helpers/until.js";
import { MasterHarness } from "../master-harness.js";

// A describe of its own: root-level hooks would run for the whole suite, each file's
// server (and PGPASSFILE) set before any test of any file.
describe("fan-out on NATS JetStream", () => {
  /** Short waits, so an outage of seconds is noticed and drained within the test. */
  const FAST: PublisherOptions = {
    idleMs: 100,
    leaseMs: 5_000,
    backoff: { initialMs: 200, maxMs: 1_000 },
  };
  const READINGS_PER_CHUNK = 3;

  let nats: NatsServer;
  let pg: PostgresServer;
  let restorePassfile: (() => void) | undefined;
  before(async function () {
    this.timeout(60_000);
    nats = await startNats();
    pg = await startPostgres();
    restorePassfile = usePassfile(pg.passfile);
  });
  after(async () => {
    restorePassfile?.();
    await nats?.close();
    await pg?.stop();
  });

  /** A chunk of the collector's records as a node sends it: values `id*10 + i`. */
  function chunk(id: number, stream = "telemetry"): Chunk {
    const ts = Date.now();
    const records: TelemetryRecord[] = Array.from({ length: READINGS_PER_CHUNK }, (_, i) => ({
      device: "turbine-1",
      tag: `t${i}`,
      ts: ts + i,
      value: id * 10 + i,
      quality: "good",
      unit: "kW",
    }));
    const { node: _node, receivedAt: _at, ...wire } = recordChunk("-", id, records, { stream });
    return wire;
  }

  async function nodeLink(h: MasterHarness, name: string): Promise<NodeLink> {
    const link = h.link(await h.addNode(name));
    await link.sendSchema({ fingerprint: RECORD_SCHEMA_FINGERPRINT, schema: RECORD_SCHEMA_TEXT });
    return link;
  }

  async function metricsOf(h: MasterHarness): Promise<string> {
    const answer = await fetch(`${h.master.url}/metrics`, {
      headers: { authorization: `Bearer ${openDataDir(h.dir).adminToken}` },
    });
    return answer.text();
  }

  /** Waits until the outbox is empty and the stream holds `messages` messages; returns them. */
  async function drained(store: MasterStore, messages: number, timeoutMs = 30_000) {
    return eventually(
      `outbox drained into ${messages} messages`,
      timeoutMs,
      async () => {
        if ((await store.outboxState()).messages > 0) return undefined;
        const stored = await telemetryStream(nats);
        return stored.length >= messages ? stored : undefined;
      },
      200,
    );
  }

  /** Every (node, chunk) once and each of its readings once, nothing else. */
  function assertExactlyOnce(
    stored: Awaited<ReturnType<typeof telemetryStream>>,
    node: string,
    chunkIds: number[],
  ): void {
    assert.deepEqual(
      stored.map((m) => m.msgId).sort(),
      chunkIds.map((id) => `${node}:${id}`).sort(),
    );
    const values = stored
      .flatMap((m) => m.readings.map((r) => Number(r.value)))
      .sort((a, b) => a - b);
    const expected = chunkIds
      .flatMap((id) => Array.from({ length: READINGS_PER_CHUNK }, (_, i) => id * 10 + i))
      .sort((a, b) => a - b);
    assert.deepEqual(values, expected);
  }

  for (const kind of ["sqlite", "postgres"] as const) {
    describe(`fan-out: outbox to NATS JetStream (${kind})`, function () {
      this.timeout(120_000);
      let h: MasterHarness;
      let db: { name: string; url: string } | undefined;

      beforeEach(async () => {
        db = kind === "postgres" ? await pg.createDatabase() : undefined;
        h = await new MasterHarness().start({
          ...(db ? { store: db.url } : {}),
          nats: { url: nats.url, publisher: FAST },
        });
      });
      afterEach(async () => {
        await h.close();
        if (db) await pg.dropDatabase(db.name);
        if (!nats.running()) await nats.start();
        await dropTelemetryStream(nats);
      });

      it("publishes each stored chunk's readings as one message, by an id JetStream dedupes, and empties the outbox", async () => {
        const link = await nodeLink(h, "gw.1");
        const sent = [chunk(1, "line 2"), chunk(2, "line 2")];
        for (const c of sent) assert.equal((await link.send(c)).duplicate, false);
        assert.equal((await link.send(chunk(1, "line 2"))).duplicate, true);
        const stored = await drained(h.master.store, 2);
        assert.equal(stored.length, 2);
        assert.deepEqual(
          stored.map((m) => [m.subject, m.msgId, m.message.chunkId, m.message.parts]),
          [
            ["outpost.telemetry.gw%2E1.line%202", "gw.1:1", 1, 1],
            ["outpost.telemetry.gw%2E1.line%202", "gw.1:2", 2, 1],
          ],
        );
        assert.deepEqual(
          stored[1]?.readings.map((r) => [
            r.node,
            r.stream,
            r.device,
            r.tag,
            r.value,
            r.unit,
            r.quality,
          ]),
          [
            ["gw.1", "line 2", "turbine-1", "t0", 20, "kW", "good"],
            ["gw.1", "line 2", "turbine-1", "t1", 21, "kW", "good"],
            ["gw.1", "line 2", "turbine-1", "t2", 22, "kW", "good"],
          ],
        );
        const metrics = await metricsOf(h);
        assert.match(metrics, /outpost_master_nats_published_total\{result="stored"\} 2\n/);
        assert.match(metrics, /outpost_master_nats_published_readings_total 6\n/);
        assert.match(metrics, /outpost_master_outbox_depth 0\n/);
      });

      it("keeps acking nodes while NATS is down, then drains the outbox: every chunk in JetStream exactly once", async () => {
        const link = await nodeLink(h, "gw-1");
        const ids: number[] = [];
        let next = 1;
        const send = async (): Promise<number> => {
          const id = next++;
          const started = Date.now();
          assert.equal((await link.send(chunk(id))).duplicate, false);
          ids.push(id);
          return Date.now() - started;
        };
        for (let i = 0; i < 3; i++) await send();
        await drained(h.master.store, 3);

        await nats.stop();
        const outageEnds = Date.now() + 10_000;
        const acks: number[] = [];
        while (Date.now() < outageEnds) {
          acks.push(await send());
          await new Promise((r) => setTimeout(r, 200));
        }
        // Ingest never waited for NATS: every chunk acked as fast as with it there.
        assert.ok(acks.length >= 20, `${acks.length} chunks sent during the outage`);
        assert.ok(Math.max(...acks) < 2_000, `slowest ack ${Math.max(...acks)} ms`);
        const waiting = await h.master.store.outboxState();
        assert.equal(waiting.messages, acks.length);
        assert.match(
          await metricsOf(h),
          new RegExp(`outpost_master_outbox_depth ${acks.length}\\n`),
        );

        await nats.start();
        for (let i = 0; i < 3; i++) await send();
        const stored = await drained(h.master.store, ids.length);
        assertExactlyOnce(stored, "gw-1", ids);
      });

      it("starts and acks while NATS is not there, and publishes once it comes", async () => {
        await nats.stop();
        await h.restart();
        const link = await nodeLink(h, "gw-1");
        for (const id of [1, 2]) assert.equal((await link.send(chunk(id))).duplicate, false);
        assert.equal((await h.master.store.outboxState()).messages, 2);
        await nats.start();
        assertExactlyOnce(await drained(h.master.store, 2), "gw-1", [1, 2]);
      });
    });
  }

  describe("fan-out: a message published again", function () {
    this.timeout(60_000);
    for (const kind of ["sqlite", "postgres"] as const) {
      it(`is dropped by JetStream's dedupe, and its outbox row deleted on that ack (${kind})`, async () => {
        const dir = mkdtempSync(join(tmpdir(), "outpost-outbox-"));
        const db = kind === "postgres" ? await pg.createDatabase() : undefined;
        const store = db
          ? await PgStore.open(db.url, { outbox: true })
          : SqliteStore.open(join(dir, "master.db"), { outbox: true });
        const servers = [nats.url.replace("nats://", "")];
        const first = new JetStreamLink({ servers, name: "test" }, 3_600_000, silentLogger);
        const second = new JetStreamLink({ servers, name: "test" }, 3_600_000, silentLogger);
        try {
          await store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, Date.now());
          await store.ingestChunks([{ ...chunk(1), node: "gw-1", receivedAt: Date.now() }]);
          // A publisher gets its PubAck but stops before deleting the row: its lease runs out.
          await first.ready();
          const [m] = await store.claimOutbox(10, 1);
          assert.ok(m);
          assert.equal((await first.publish(m)).duplicate, false);
          const metrics = new MasterMetrics();
          const publisher = new OutboxPublisher(store, second, metrics, silentLogger, FAST);
          publisher.start();
          try {
            await eventually("outbox emptied", 20_000, async () =>
              (await store.outboxState()).messages === 0 ? true : undefined,
            );
          } finally {
            await publisher.close();
          }
          const text = await metrics.registry.metrics();
          assert.match(text, /outpost_master_nats_published_total\{result="duplicate"\} 1\n/);
          assert.doesNotMatch(text, /result="stored"/);
          assert.deepEqual(
            (await telemetryStream(nats)).map((s) => s.msgId),
            ["gw-1:1"],
          );
        } finally {
          await first.close();
          await store.close();
          if (db) await pg.dropDatabase(db.name);
          rmSync(dir, { recursive: true, force: true });
          await dropTelemetryStream(nats);
        }
      });
    }
  });

  describe("fan-out: several masters on one PostgreSQL", function () {
    this.timeout(120_000);

    it("never lets two publishers claim the same messages at once", async () => {
      const db = await pg.createDatabase();
      const a = await PgStore.open(db.url, { outbox: true });
      const b = await PgStore.open(db.url, { outbox: true });
      try {
        await a.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, Date.now());
        const chunks = Array.from({ length: 10 }, (_, i) => ({
          ...chunk(i + 1),
          node: "gw-1",
          receivedAt: Date.now(),
        }));
        await a.ingestChunks(chunks);
        const [x, y] = await Promise.all([a.claimOutbox(6, 60_000), b.claimOutbox(6, 60_000)]);
        const ids = [...(x ?? []), ...(y ?? [])].map((m) => m.chunkId);
        assert.equal(new Set(ids).size, ids.length, `claimed twice: ${ids}`);
        assert.equal(ids.length, 10);
      } finally {
        await a.close();
        await b.close();
        await pg.dropDatabase(db.name);
      }
    });

    it("publishes what two masters ingest, each chunk exactly once", async () => {
      const db = await pg.createDatabase();
      const masters = [new MasterHarness(), new MasterHarness()];
      try {
        for (const m of masters)
          await m.start({ store: db.url, nats: { url: nats.url, publisher: FAST } });
        const [one, two] = masters as [MasterHarness, MasterHarness];
        const linkOne = await nodeLink(one, "gw-1");
        const linkTwo = two.link(await two.addNode("gw-2"));
        const ids = Array.from({ length: 20 }, (_, i) => i + 1);
        await Promise.all([
          (async () => {
            for (const id of ids) await linkOne.send(chunk(id));
          })(),
          (async () => {
            for (const id of ids) await linkTwo.send(chunk(id));
          })(),
        ]);
        const stored = await drained(one.master.store, 40);
        assertExactlyOnce(
          stored.filter((m) => m.message.node === "gw-1"),
          "gw-1",
          ids,
        );
        assertExactlyOnce(
          stored.filter((m) => m.message.node === "gw-2"),
          "gw-2",
          ids,
        );
      } finally {
        for (const m of masters) await m.close();
        await pg.dropDatabase(db.name);
        await dropTelemetryStream(nats);
      }
    });
  });

  describe("fan-out: --nats at the edge", () => {
    it("refuses a URL that is not nats://HOST:PORT, or holds credentials, naming the flag", async () => {
      const data = mkdtempSync(join(tmpdir(), "outpost-master-"));
      const start = (url: string, dedupeWindowMs?: number) =>
        startMaster({
          data,
          listen: "tcp://127.0.0.1:*",
          http: "127.0.0.1:0",
          nats: { url, ...(dedupeWindowMs ? { dedupeWindowMs } : {}) },
          logger: pino({ level: "silent" }),
        });
      try {
        for (const url of ["http://127.0.0.1:4222", "nats://", "nats://a b:4222", "nats://h:70000"])
          await assert.rejects(start(url), {
            code: "E_MASTER_INVALID",
            message: new RegExp(`^--nats: expected nats://HOST:PORT .*got '${url}'$`),
          });
        await assert.rejects(start("nats://user:secret@127.0.0.1:4222"), {
          code: "E_MASTER_INVALID",
          message: /^--nats: the URL must not hold credentials/,
        });
        await assert.rejects(start(nats.url, 1_000), {
          code: "E_MASTER_INVALID",
          message: /^--nats-dedupe-window: must be at least 2m/,
        });
      } finally {
        rmSync(data, { recursive: true, force: true });
      }
    });
  });
});
