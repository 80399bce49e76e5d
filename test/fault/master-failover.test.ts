import { strict as assert } from "node:assert";
import type { ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type postgres from "postgres";
import { loadOrCreateIdentity, type RunningAgent, startAgent } from "../../agent/index.js";
import { encodeRecord, RECORD_SCHEMA_FINGERPRINT } from "../../collector/record.js";
import { encodeRecords } from "../../common/record-frame.js";
import { isPlaced, KEY_FILE, MasterClient, openDataDir, TOKEN_FILE } from "../../master/index.js";
import { type Chunk, generateKeyPair, type KeyPair, NodeLink } from "../../protocol/index.js";
import { type NatsServer, startNats, telemetryStream } from "../helpers/nats-server.js";
import { type PostgresServer, startPostgres } from "../helpers/postgres-server.js";
import { RECORD_SCHEMA_TEXT } from "../helpers/record-chunks.js";
import { repoRoot } from "../helpers/run-outpost.js";
import { eventually, until } from "../helpers/until.js";
import {
  type StartedMaster,
  startMasterProcess,
  stopMasterProcess,
} from "../master/master-process.js";

const logger = pino({ level: process.env.DEBUG_FAILOVER_LOG ?? "silent" });
const SIMULATED = 20;
const RECORDS = 5;
/** What a node's forwarder waits between chunks: about 40 chunks/s from the 20 nodes. */
const PACE_MS = 500;
const echo = `file://${join(repoRoot, "test", "fixtures", "echo", "software.yaml")}`;

interface Master {
  name: "a" | "b";
  data: string;
  child: ChildProcess;
  started: StartedMaster;
}

/** A simulated node: a forwarder sending one chunk at a time, each until acked. */
interface Pusher {
  name: string;
  link: NodeLink;
  /** Chunk ids acked, and when. */
  acked: Map<number, number>;
  next: number;
}

function chunkOf(node: number, id: number): Chunk {
  const records = Array.from({ length: RECORDS }, (_, i) =>
    encodeRecord({
      device: "turbine",
      tag: `t${i}`,
      ts: 1_790_000_000_000 + id * 1000 + i,
      value: node * 1e6 + id + i / 10,
      quality: "good",
      unit: "kW",
    }),
  );
  return {
    chunkId: id,
    stream: "turbine",
    schema: RECORD_SCHEMA_FINGERPRINT,
    createdAt: Date.now(),
    firstSeq: id * RECORDS + 1,
    lastSeq: (id + 1) * RECORDS,
    records: RECORDS,
    compression: "none",
    body: encodeRecords(records, id * RECORDS + 1),
  };
}

/**
 * The fault end to end: one PostgreSQL and one nats-server of this file, two
 * `outpost master start` processes on them sharing the fleet's key pair and token, two
 * real agents (laptop mode) and 20 simulated nodes, all given both masters, the nodes
 * pushing telemetry all along. One master is frozen (SIGSTOP: no reset reaches anyone),
 * later the other killed (SIGKILL); NATS is stopped for 30 s. Through it all every chunk
 * a node sent is stored once in PostgreSQL and published once to JetStream, and each
 * node is served by a surviving master within 15 s.
 */
describe("fault: two masters on one PostgreSQL and NATS: failover, outbox, wake", function () {
  this.timeout(600_000);
  let pg: PostgresServer;
  let nats: NatsServer;
  let db: postgres.Sql;
  let tmp: string;
  let store: { url: string; env: NodeJS.ProcessEnv };
  const masters: Record<"a" | "b", Master | undefined> = { a: undefined, b: undefined };
  let client: MasterClient;
  let token: string;
  const agents: { name: string; data: string; agent: RunningAgent }[] = [];
  const pushers: Pusher[] = [];
  let pushing = true;
  let pushed: Promise<void>[] = [];

  async function startMasterNamed(name: "a" | "b"): Promise<Master> {
    const data = join(tmp, `master-${name}`);
    const { child, started } = startMasterProcess(data, undefined, store, ["--nats", nats.url]);
    const m = { name, data, child, started: await started };
    masters[name] = m;
    return m;
  }

  const endpoints = () => `${masters.a?.started.endpoint},${masters.b?.started.endpoint}`;

  async function metric(m: Master, pattern: RegExp): Promise<number> {
    const text = await (
      await fetch(`${m.started.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
    ).text();
    return Number(pattern.exec(text)?.[1] ?? 0);
  }

  const changeWakes = (m: Master) =>
    metric(m, /^outpost_master_wakes_total\{cause="change"\} (\d+)/m);

  /** Every outbox message published and acked by JetStream (a killed master's after its lease). */
  async function outboxDrained(): Promise<void> {
    await eventually(
      "the outbox drained",
      120_000,
      async () => {
        const [row] = await db`SELECT count(*)::int AS n FROM telemetry_outbox`;
        return row?.n === 0 ? true : undefined;
      },
      500,
    );
  }

  async function push(p: Pusher): Promise<void> {
    while (pushing) {
      const id = p.next;
      try {
        await p.link.send(chunkOf(pushers.indexOf(p), id));
        p.acked.set(id, Date.now());
        p.next++;
      } catch {
        // A forwarder sends the same chunk again until it is acked.
      }
      await new Promise((r) => setTimeout(r, PACE_MS));
    }
  }

  /** The time each node took, after `since`, to have a chunk acked again. */
  async function backWithin(since: number, boundMs: number): Promise<number> {
    const missing = () =>
      pushers
        .filter((p) => ![...p.acked.values()].some((t) => t > since))
        .map((p) => `${p.name} (next chunk ${p.next})`)
        .join(", ");
    const worst = await eventually(
      `every node acked again within ${boundMs} ms`,
      boundMs + 10_000,
      () => {
        const firsts = pushers.map((p) => [...p.acked.values()].find((t) => t > since));
        return firsts.every((t) => t !== undefined)
          ? Math.max(...firsts.map((t) => (t as number) - since))
          : undefined;
      },
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; still waiting: ${missing()}`);
    });
    assert.ok(worst <= boundMs, `a node waited ${worst} ms for a master`);
    return worst;
  }

  /**
   * A change for each agent made on `survivor` right after `since` reaches the agent within
   * `boundMs` of it: an agent held by the survivor is woken, one held by the master that
   * went away must first move to the survivor (its control link syncs only every 30 s).
   */
  async function agentsServedBy(survivor: Master, since: number, boundMs: number): Promise<void> {
    const on = new MasterClient(survivor.started.url, token);
    const release = `file:///nonexistent/after-${since}/software.yaml`;
    for (const { name } of agents) await on.supply(name, release);
    for (const { name, data } of agents) {
      await eventually(
        `${name} has the change made on master ${survivor.name}`,
        boundMs - (Date.now() - since),
        () => {
          try {
            const journal = JSON.parse(readFileSync(join(data, "journal.json"), "utf8"));
            return journal.desired?.software?.includes(release) ? true : undefined;
          } catch {
            return undefined;
          }
        },
        100,
      );
    }
  }

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-fault-masters-"));
    pg = await startPostgres();
    nats = await startNats();
    const database = await pg.createDatabase();
    db = pg.admin(database.name);
    store = { url: database.url, env: { PGPASSFILE: pg.passfile } };
    const a = join(tmp, "master-a");
    const b = join(tmp, "master-b");
    openDataDir(a);
    mkdirSync(b, { mode: 0o700 });
    for (const f of [KEY_FILE, TOKEN_FILE]) copyFileSync(join(a, f), join(b, f));
    token = openDataDir(a).adminToken;
    await startMasterNamed("a");
    await startMasterNamed("b");
    client = new MasterClient((masters.a as Master).started.url, token);
    const publicKey = (masters.a as Master).started.publicKey;
    for (const name of ["gw-1", "gw-2"]) {
      const data = join(tmp, name);
      await client.addNode(name, loadOrCreateIdentity(data).publicKey);
      const agent = await startAgent({
        data,
        master: endpoints(),
        masterKey: publicKey,
        name,
        partitions: 2,
        agentVersion: "0.0.0-test",
        logger,
        isolated: false,
        syncInterval: 30,
      });
      agents.push({ name, data, agent });
    }
    const keys: KeyPair[] = [];
    for (let i = 0; i < SIMULATED; i++) {
      keys.push(generateKeyPair());
      await client.addNode(`sim-${i}`, (keys[i] as KeyPair).publicKey);
    }
    for (const [i, keyPair] of keys.entries()) {
      const link = new NodeLink({
        endpoint: endpoints().split(","),
        masterPublicKey: publicKey,
        keyPair,
        timeoutMs: 5_000,
        logger: logger.child({ node: `sim-${i}` }),
      });
      await link.sendSchema({ fingerprint: RECORD_SCHEMA_FINGERPRINT, schema: RECORD_SCHEMA_TEXT });
      pushers.push({ name: `sim-${i}`, link, acked: new Map(), next: 1 });
    }
    pushed = pushers.map((p) => push(p));
    await until(() => agents.every(({ agent }) => agent.loop.online), 30_000, "agents online");
  });

  after(async () => {
    pushing = false;
    await Promise.all(pushed);
    await Promise.all(pushers.map((p) => p.link.close()));
    for (const { agent } of agents) await agent.shutdown();
    for (const m of [masters.a, masters.b]) {
      if (!m) continue;
      if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill("SIGCONT");
      await stopMasterProcess(m.child);
    }
    await db?.end({ timeout: 5 });
    await nats?.close();
    await pg?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("a request made on master A runs on a node held by master B within 2 s", async () => {
    const a = masters.a as Master;
    const b = masters.b as Master;
    // The master holding a node's link is the one that wakes it on a change.
    const before = { a: await changeWakes(a), b: await changeWakes(b) };
    await client.supply("gw-1", echo);
    const holder = await eventually(
      "a master woke gw-1",
      10_000,
      async () => {
        if ((await changeWakes(a)) > before.a) return a;
        if ((await changeWakes(b)) > before.b) return b;
        return undefined;
      },
      50,
    );
    const other = holder === a ? b : a;
    const onOther = new MasterClient(other.started.url, token);
    // The release installed first (a warm-up instance), so the timing is the wake's.
    await onOther.request({
      name: "warm",
      software: echo,
      node: "gw-1",
      parameters: { port: "7401" },
    });
    await eventually("warm runs", 120_000, async () => {
      const i = (await client.show("warm")).instance;
      return isPlaced(i) && i.status === "running" ? true : undefined;
    });
    const start = Date.now();
    await onOther.request({
      name: "e1",
      software: echo,
      node: "gw-1",
      parameters: { port: "7402" },
    });
    const took = await eventually(
      "e1 running",
      10_000,
      async () => {
        const i = (await client.show("e1")).instance;
        return isPlaced(i) && i.status === "running" ? Date.now() - start : undefined;
      },
      20,
    );
    assert.ok(
      took <= 2_000,
      `e1 took ${took} ms from the request on master ${other.name} to running`,
    );
  });

  it("NATS stopped for 30 s: ingest keeps acking, then the outbox drains", async () => {
    const stoppedAt = Date.now();
    await nats.stop();
    await new Promise((r) => setTimeout(r, 30_000));
    const ackedMeanwhile = pushers.reduce(
      (n, p) => n + [...p.acked.values()].filter((t) => t > stoppedAt + 1000).length,
      0,
    );
    assert.ok(
      ackedMeanwhile >= SIMULATED * 20,
      `${ackedMeanwhile} chunks acked while NATS was down`,
    );
    const [held] = await db`SELECT count(*)::int AS depth FROM telemetry_outbox`;
    assert.ok(Number(held?.depth) > 0, "the outbox held what NATS could not take");
    await nats.start();
    await outboxDrained();
  });

  it("master B frozen (SIGSTOP) mid-ingest: its nodes are on A within 15 s", async () => {
    const b = masters.b as Master;
    const since = Date.now();
    b.child.kill("SIGSTOP");
    try {
      await backWithin(since, 15_000);
      await agentsServedBy(masters.a as Master, since, 15_000);
    } finally {
      b.child.kill("SIGCONT");
    }
  });

  it("master A killed (SIGKILL) mid-ingest: its nodes are on B within 15 s", async () => {
    const a = masters.a as Master;
    const since = Date.now();
    await stopMasterProcess(a.child, "SIGKILL");
    await backWithin(since, 15_000);
    await agentsServedBy(masters.b as Master, since, 15_000);
    client = new MasterClient((masters.b as Master).started.url, token);
  });

  it("every chunk a node sent is in PostgreSQL once and in JetStream once", async () => {
    pushing = false;
    await Promise.all(pushed);
    const sent = new Map<string, Set<number>>();
    for (const p of pushers) sent.set(p.name, new Set(p.acked.keys()));
    const total = [...sent.values()].reduce((n, s) => n + s.size, 0);
    assert.ok(total >= SIMULATED * 60, `${total} chunks`);
    const rows = await db`SELECT node, chunk_id::int AS id FROM telemetry_chunks
      WHERE node LIKE 'sim-%'`;
    assert.equal(rows.length, total, "every chunk once (UNIQUE (node, chunk id))");
    for (const r of rows) assert.ok(sent.get(r.node)?.has(r.id), `${r.node}/${r.id} was sent`);
    const [readings] = await db`SELECT count(*)::int AS n FROM readings r
      JOIN series s ON s.id = r.series WHERE s.node LIKE 'sim-%'`;
    assert.equal(readings?.n, total * RECORDS);
    // A killed master's leased rows go to the survivor after their lease.
    await outboxDrained();
    const stream = (await telemetryStream(nats)).filter((m) => m.message.node.startsWith("sim-"));
    const ids = stream.map((m) => `${m.message.node}:${m.message.chunkId}:${m.message.part}`);
    assert.equal(new Set(ids).size, ids.length, "no message twice in JetStream");
    assert.equal(stream.length, total, "every chunk published");
    assert.equal(
      stream.reduce((n, m) => n + m.readings.length, 0),
      total * RECORDS,
    );
  });
});
