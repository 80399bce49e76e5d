import { strict as assert } from "node:assert";
import type { ChildProcess } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type postgres from "postgres";
import {
  KEY_FILE,
  LAST_SEEN_FLUSH_MS,
  MasterClient,
  type NodePresence,
  openDataDir,
  type StatusSnapshot,
  TOKEN_FILE,
} from "../../master/index.js";
import { generateKeyPair, type KeyPair, NodeLink } from "../../protocol/index.js";
import { type PostgresServer, startPostgres } from "../helpers/postgres-server.js";
import { runOutpost } from "../helpers/run-outpost.js";
import { eventually } from "../helpers/until.js";
import { chunk, hello } from "./master-harness.js";
import { type StartedMaster, startMasterProcess, stopMasterProcess } from "./master-process.js";

// A describe of its own: root-level hooks would run for the whole suite, each file's
// server (and PGPASSFILE) set before any test of any file.
describe("several masters (one PostgreSQL server for this file)", () => {
  const software = "https://example.org/echo/software.yaml";
  const NODES = ["node-1", "node-2", "node-3"];
  const PARTITIONS = 4;
  const CORES = [1, 2, 3];
  const REQUESTS = 200;

  /** One `outpost master start --store postgres://…` child process and a client of its API. */
  interface Master {
    started: StartedMaster;
    child: ChildProcess;
    client: MasterClient;
    token: string;
    dir: string;
  }

  /** Two masters on one database, each its own process (and connection pool). */
  interface Pair {
    a: Master;
    b: Master;
    /** A superuser connection to the database, to check it under the store. */
    db: postgres.Sql;
    links: NodeLink[];
    close(): Promise<void>;
  }

  let server: PostgresServer;
  before(async function () {
    this.timeout(60_000);
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });

  /**
   * A fresh database and two masters on it, started together (both migrate it: once). The
   * second data directory holds copies of the first's key pair and admin token: one fleet
   * identity, given to every master as files.
   */
  async function startPair(): Promise<Pair> {
    const { name, url } = await server.createDatabase();
    const dirA = mkdtempSync(join(tmpdir(), "outpost-master-a-"));
    const dirB = mkdtempSync(join(tmpdir(), "outpost-master-b-"));
    const { adminToken } = openDataDir(dirA);
    for (const file of [KEY_FILE, TOKEN_FILE]) {
      copyFileSync(join(dirA, file), join(dirB, file));
      chmodSync(join(dirB, file), 0o600);
    }
    const store = { url, env: { PGPASSFILE: server.passfile } };
    const procs = [dirA, dirB].map((dir) => ({
      dir,
      ...startMasterProcess(dir, undefined, store),
    }));
    const links: NodeLink[] = [];
    const db = server.admin(name);
    const close = async (): Promise<void> => {
      await Promise.all(links.map((l) => l.close()));
      await Promise.all(procs.map((p) => stopMasterProcess(p.child)));
      await db.end();
      await server.dropDatabase(name);
      for (const dir of [dirA, dirB]) rmSync(dir, { recursive: true, force: true });
    };
    try {
      const [a, b] = await Promise.all(
        procs.map(async (p): Promise<Master> => {
          const started = await p.started;
          const client = new MasterClient(started.url, adminToken);
          return { started, child: p.child, client, token: adminToken, dir: p.dir };
        }),
      );
      return { a: a as Master, b: b as Master, db, links, close };
    } catch (err) {
      await close();
      throw err;
    }
  }

  /** A node link to `master`, closed with the pair. */
  function linkTo(pair: Pair, master: Master, keys: KeyPair): NodeLink {
    const link = new NodeLink({
      endpoint: master.started.endpoint,
      masterPublicKey: master.started.publicKey,
      keyPair: keys,
      timeoutMs: 10_000,
    });
    pair.links.push(link);
    return link;
  }

  /**
   * Three nodes of four partitions and three isolated cores each, added through A, saying
   * hello to A or B (the masters share one key), the software supplied through B.
   */
  async function fleet(pair: Pair): Promise<void> {
    assert.equal(pair.a.started.publicKey, pair.b.started.publicKey, "one fleet key");
    for (const [i, node] of NODES.entries()) {
      const keys = generateKeyPair();
      await pair.a.client.addNode(node, keys.publicKey);
      const link = linkTo(pair, i % 2 === 0 ? pair.a : pair.b, keys);
      await link.hello({ ...hello, partitions: PARTITIONS, isolatedCores: CORES });
      await pair.b.client.supply(node, software);
    }
  }

  /** The requests, one in four asking for an isolated core, alternately to A and to B. */
  function race(pair: Pair, wait: boolean) {
    return Promise.allSettled(
      Array.from({ length: REQUESTS }, (_, i) =>
        (i % 2 === 0 ? pair.a : pair.b).client.request({
          name: `r-${String(i).padStart(3, "0")}`,
          software,
          parameters: { i: String(i) },
          cores: i % 4 === 0 ? 1 : 0,
          wait,
        }),
      ),
    );
  }

  /** What the database holds of placements, checked to give each partition and core once. */
  async function placements(db: postgres.Sql) {
    const placed = await db`SELECT name, node, partition, cores FROM instances ORDER BY name`;
    const cores = await db`SELECT node, core, instance FROM placed_cores ORDER BY node, core`;
    const [waiting] = await db`SELECT count(*)::int AS n FROM waiting_requests`;
    const slots = placed.map((p) => `${p.node}/${p.partition}`);
    assert.equal(new Set(slots).size, slots.length, `a partition given twice: ${slots.join(" ")}`);
    assert.deepEqual(
      [...slots].sort(),
      NODES.flatMap((n) => Array.from({ length: PARTITIONS }, (_, p) => `${n}/${p}`)),
      "every partition given",
    );
    const coreSlots = placed.flatMap((p) => (p.cores as number[]).map((c) => `${p.node}/${c}`));
    assert.equal(new Set(coreSlots).size, coreSlots.length, `a core given twice: ${coreSlots}`);
    assert.equal(cores.length, coreSlots.length, "placed_cores holds every placed core");
    return { placed, waiting: Number(waiting?.n) };
  }

  describe("several masters on one PostgreSQL", function () {
    this.timeout(180_000);

    describe(`${REQUESTS} requests racing on two masters for ${NODES.length * PARTITIONS} partitions`, () => {
      let pair: Pair;
      beforeEach(async function () {
        this.timeout(120_000);
        pair = await startPair();
        await fleet(pair);
      });
      afterEach(async () => {
        await pair?.close();
      });

      it("gives every partition exactly once and each core at most once; the rest wait", async () => {
        const results = await race(pair, true);
        const statuses = results.map((r) =>
          r.status === "fulfilled" ? r.value.status : (r.reason as Error).message,
        );
        const placedAnswers = statuses.filter((s) => s === "pending").length;
        assert.equal(placedAnswers, NODES.length * PARTITIONS, statuses.join(", "));
        assert.equal(statuses.filter((s) => s === "waiting").length, REQUESTS - placedAnswers);
        const { placed, waiting } = await placements(pair.db);
        assert.equal(placed.length, NODES.length * PARTITIONS);
        assert.equal(waiting, REQUESTS - placed.length, "the rest stored as waiting");
        // Both masters answer the same list: every request once, placed or waiting.
        const [onA, onB] = await Promise.all([pair.a, pair.b].map(listInstances));
        assert.deepEqual(onA, onB);
        assert.equal(onA?.length, REQUESTS);
        assert.equal(onA?.filter((i) => i.status === "waiting").length, waiting);
      });

      it("with --no-wait refuses the rest with E_MASTER_NO_CAPACITY and stores none of them", async () => {
        const results = await race(pair, false);
        const refused = results.filter((r) => r.status === "rejected");
        assert.equal(results.length - refused.length, NODES.length * PARTITIONS);
        for (const r of refused)
          assert.equal(
            (r.reason as { code?: string }).code,
            "E_MASTER_NO_CAPACITY",
            String(r.reason),
          );
        const { placed, waiting } = await placements(pair.db);
        assert.equal(placed.length, NODES.length * PARTITIONS);
        assert.equal(waiting, 0, "nothing of a refused request is kept");
        const accepted = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.name] : []));
        assert.deepEqual(
          placed.map((p) => p.name),
          accepted.sort(),
        );
        // The CLI's --no-wait through the other master: refused, one line with the code.
        const cli = runOutpost(
          ["request", software, "late", "--no-wait", "--master", pair.b.started.url],
          { env: { OUTPOST_TOKEN: pair.b.token } },
        );
        assert.equal(cli.status, 1, cli.stderr);
        assert.match(
          cli.stderr,
          /^outpost: no node can take instance 'late': .*\[E_MASTER_NO_CAPACITY\]/,
        );
        assert.equal((await placements(pair.db)).placed.length, placed.length);
        assert.deepEqual([...(await pair.db`SELECT name FROM waiting_requests`)], []);
      });
    });

    describe("shared state", () => {
      let pair: Pair;
      let link: NodeLink;
      before(async function () {
        this.timeout(120_000);
        pair = await startPair();
        const keys = generateKeyPair();
        await pair.b.client.addNode("gw-1", keys.publicKey);
        link = linkTo(pair, pair.a, keys);
        await link.hello(hello);
      });
      after(async () => {
        await pair?.close();
      });

      it(`shows a node heard by master A online on master B within ${LAST_SEEN_FLUSH_MS / 1000} s`, async () => {
        // Past A's next flush, nothing of gw-1's hello is left to write; then, as if gw-1
        // had been silent for a minute: offline on both.
        await new Promise((r) => setTimeout(r, LAST_SEEN_FLUSH_MS + 1_000));
        const minuteAgo = Date.now() - 60_000;
        await pair.db`UPDATE nodes SET last_seen = ${minuteAgo}`;
        for (const m of [pair.a, pair.b])
          assert.equal((await nodeOn(m)).online, false, `offline on ${m.started.url}`);
        const heard = Date.now();
        await link.sync();
        const online = await eventually(
          "gw-1 online on master B",
          LAST_SEEN_FLUSH_MS + 3_000,
          async () => {
            const [listed, status] = await Promise.all([nodeOn(pair.b), statusOf(pair.b)]);
            return listed.online && status.nodes[0]?.online ? Date.now() : undefined;
          },
        );
        assert.ok(
          online - heard <= LAST_SEEN_FLUSH_MS + 2_000,
          `online on B ${online - heard} ms after A heard it`,
        );
        // Both masters give the one stored time, not A its own fresher one.
        const [onA, onB] = await Promise.all([nodeOn(pair.a), nodeOn(pair.b)]);
        assert.deepEqual(onA, onB);
        assert.ok((onB.lastSeen ?? 0) >= heard, "the time A heard it");
      });

      it("shows on master B the telemetry and buffer backlogs master A took", async () => {
        await pair.b.client.supply("gw-1", software);
        await pair.b.client.request({ name: "e", software, parameters: {} });
        const now = Date.now();
        const buffer = { records: 40, bytes: 4000, oldestAgeMs: 12_000, peakRecords: 400, at: now };
        await link.report({
          instances: [{ name: "e", status: "running", promises: [], connection: {}, buffer }],
          usage: [],
        });
        for (const id of [1, 2, 3]) await link.send(chunk(id, id * 10, 10));
        await link.send(chunk(2, 20, 10)); // a resend: counted once
        const [onA, onB] = await Promise.all([statusOf(pair.a), statusOf(pair.b)]);
        assert.deepEqual(onB.telemetry.backlog["gw-1"], { ...buffer, instances: { e: buffer } });
        assert.deepEqual(
          { ...onB.telemetry.nodes["gw-1"], lastChunkAt: undefined },
          { records: 30, chunks: 3, lastChunkAt: undefined },
        );
        assert.ok((onB.telemetry.nodes["gw-1"]?.lastChunkAt ?? 0) >= now);
        assert.equal(onB.telemetry.recordsPerSecond, 3, "30 records in the last 10 s");
        assert.deepEqual(
          { nodes: onA.telemetry.nodes, backlog: onA.telemetry.backlog, instances: onA.instances },
          { nodes: onB.telemetry.nodes, backlog: onB.telemetry.backlog, instances: onB.instances },
        );
        // A destroyed instance's backlog is forgotten, on every master.
        await pair.a.client.destroy("e");
        await link.report({
          instances: [{ name: "e", status: "destroyed", promises: [], connection: {} }],
          usage: [],
        });
        assert.deepEqual((await statusOf(pair.b)).telemetry.backlog, {});
      });
    });
  });

  /** A GET of `master`'s API, as JSON. */
  async function api<T>(master: Master, path: string): Promise<T> {
    const res = await fetch(`${master.started.url}${path}`, {
      headers: { authorization: `Bearer ${master.token}` },
    });
    assert.equal(res.status, 200, `GET ${path}`);
    return (await res.json()) as T;
  }

  async function listInstances(master: Master) {
    type Listed = { name: string; status: string; node: string | null; partition: number | null };
    return (await api<{ instances: Listed[] }>(master, "/v1/instances")).instances.map(
      ({ name, status, node, partition }) => ({ name, status, node, partition }),
    );
  }

  async function nodeOn(master: Master): Promise<NodePresence> {
    const [node] = await master.client.listNodes();
    assert.equal(node?.name, "gw-1");
    return node;
  }

  function statusOf(master: Master): Promise<StatusSnapshot> {
    return api<StatusSnapshot>(master, "/v1/status");
  }
});
