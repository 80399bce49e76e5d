import { strict as assert } from "node:assert";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { loadOrCreateIdentity, type RunningAgent, startAgent } from "../../agent/index.js";
import { KEY_FILE } from "../../master/data-dir.js";
import {
  MasterClient,
  openDataDir,
  type RunningMaster,
  startMaster,
  TOKEN_FILE,
} from "../../master/index.js";
import { generateKeyPair, NodeLink } from "../../protocol/index.js";
import { type PostgresServer, startPostgres, usePassfile } from "../helpers/postgres-server.js";
import { eventually, until } from "../helpers/until.js";

const logger = pino({ level: process.env.DEBUG_MASTER_LOG ?? "silent" });
/** Software the agent is told to install: refused at once (no file root), which is fine here. */
const release = (n: number) => `file:///nonexistent/release-${n}/software.yaml`;

interface DesiredInJournal {
  software: string[];
  instances: { name: string; state: string }[];
}

/**
 * Two masters on one PostgreSQL, sharing one data directory's key files (the fleet's key
 * pair and admin token). A real agent (laptop mode) holds its link on master B and syncs
 * only every 30 s by itself; changes are made through master A's HTTP API.
 */
describe("several masters on one PostgreSQL: changes wake the node at once", function () {
  this.timeout(120_000);
  let pg: PostgresServer;
  let restorePassfile: (() => void) | undefined;
  const dirs: string[] = [];
  let a: RunningMaster;
  let b: RunningMaster;
  let clientA: MasterClient;
  let agent: RunningAgent;
  let agentData: string;
  const links: NodeLink[] = [];

  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };

  /** What the agent last wrote as its desired state (its journal, written on each sync). */
  const desired = (): DesiredInJournal | undefined => {
    try {
      return JSON.parse(readFileSync(join(agentData, "journal.json"), "utf8")).desired;
    } catch {
      return undefined;
    }
  };

  /** Runs `change` and resolves with the ms until the agent's desired state passes `seen`. */
  async function timeToNode(
    change: () => Promise<unknown>,
    seen: (d: DesiredInJournal) => boolean,
  ): Promise<number> {
    const start = Date.now();
    await change();
    await eventually(
      "the agent sees the change",
      10_000,
      () => {
        const d = desired();
        return d && seen(d) ? true : undefined;
      },
      10,
    );
    return Date.now() - start;
  }

  const wakes = async (m: RunningMaster, cause: string) =>
    (await m.metrics.wakes.get()).values.find((v) => v.labels.cause === cause)?.value ?? 0;

  /** A bare node link on `m` that counts wakes; it syncs once so `m` holds it. */
  async function heldLink(m: RunningMaster, name: string) {
    const keys = generateKeyPair();
    await clientA.addNode(name, keys.publicKey);
    const counter = { wakes: 0 };
    const link = new NodeLink({
      endpoint: m.endpoint,
      masterPublicKey: m.publicKey,
      keyPair: keys,
      timeoutMs: 5_000,
      onWake: () => counter.wakes++,
    });
    links.push(link);
    await link.hello({
      agentVersion: "0.0.0-test",
      arch: "x64",
      board: "generic",
      cpus: 2,
      partitions: 1,
      isolatedCores: [],
    });
    await link.sync();
    return { link, counter };
  }

  const readyz = async (m: RunningMaster) => {
    const res = await fetch(`${m.url}/readyz`);
    return {
      status: res.status,
      body: (await res.json()) as { ready: boolean; reasons: string[] },
    };
  };

  before(async () => {
    pg = await startPostgres();
    restorePassfile = usePassfile(pg.passfile);
    const { url } = await pg.createDatabase();
    const dataA = tempDir("outpost-master-a-");
    const dataB = tempDir("outpost-master-b-");
    openDataDir(dataA);
    for (const file of [KEY_FILE, TOKEN_FILE]) copyFileSync(join(dataA, file), join(dataB, file));
    const at = { listen: "tcp://127.0.0.1:*", http: "127.0.0.1:0", store: url, logger };
    a = await startMaster({ ...at, data: dataA });
    b = await startMaster({ ...at, data: dataB });
    assert.equal(a.publicKey, b.publicKey, "one fleet key");
    clientA = new MasterClient(a.url, openDataDir(dataA).adminToken);
    agentData = join(tempDir("outpost-agent-"), "agent");
    await clientA.addNode("gw-1", loadOrCreateIdentity(agentData).publicKey);
    agent = await startAgent({
      data: agentData,
      master: b.endpoint,
      masterKey: b.publicKey,
      partitions: 1,
      agentVersion: "0.0.0-test",
      logger,
      isolated: false,
      syncInterval: 30,
    });
    await until(() => agent.loop.online && desired() !== undefined, 15_000, "agent synced with B");
  });

  after(async () => {
    await agent?.shutdown();
    await Promise.all(links.map((l) => l.close()));
    await a?.close();
    await b?.close();
    restorePassfile?.();
    await pg?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("a supply, a request and a destroy made on master A reach the agent on master B within 2 s", async () => {
    const wokenBefore = await wakes(b, "change");
    const supplied = await timeToNode(
      () => clientA.supply("gw-1", release(1)),
      (d) => d.software.includes(release(1)),
    );
    const requested = await timeToNode(
      () => clientA.request({ name: "echo-1", software: release(1), node: "gw-1", parameters: {} }),
      (d) => d.instances.some((i) => i.name === "echo-1" && i.state === "started"),
    );
    const destroyed = await timeToNode(
      () => clientA.destroy("echo-1"),
      (d) => d.instances.some((i) => i.name === "echo-1" && i.state === "destroyed"),
    );
    for (const [what, ms] of Object.entries({ supplied, requested, destroyed }))
      assert.ok(ms < 2_000, `${what}: ${ms} ms from the HTTP call to the node's desired state`);
    assert.ok((await wakes(b, "change")) >= wokenBefore + 3, "master B sent the wakes");
    assert.equal(await wakes(a, "change"), 0, "master A holds no link: it sent none");
    const lag = await b.metrics.notifyLag.get();
    const count = lag.values.find(
      (v) => v.metricName === "outpost_master_notify_lag_seconds_count",
    );
    assert.ok((count?.value ?? 0) >= 3, "notify lag measured");
  });

  it("a change made on the master that holds the link wakes the node too; others' nodes are not woken", async () => {
    const own = await heldLink(a, "gw-a");
    const bystander = await heldLink(b, "gw-b");
    await clientA.supply("gw-a", release(2));
    await until(() => own.counter.wakes === 1, 2_000, "gw-a woken by its own master");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(bystander.counter.wakes, 0);
    const metrics = await (
      await fetch(`${b.url}/metrics`, {
        headers: { authorization: `Bearer ${openDataDir(dirs[0] as string).adminToken}` },
      })
    ).text();
    assert.match(metrics, /^outpost_master_links_held 2$/m, "B holds the agent's link and gw-b's");
  });

  it("/readyz is 503 while PostgreSQL is down and 200 once it is back; /healthz stays 200; missed notices wake held nodes", async () => {
    assert.deepEqual(await readyz(a), { status: 200, body: { ready: true, reasons: [] } });
    const held = await heldLink(b, "gw-held");
    await pg.halt();
    for (const m of [a, b]) {
      const down = await eventually("503 without the store", 10_000, async () => {
        const r = await readyz(m);
        return r.status === 503 ? r : undefined;
      });
      assert.deepEqual(down.body, { ready: false, reasons: ["store_unreachable"] });
      const health = await fetch(`${m.url}/healthz`);
      assert.deepEqual([health.status, await health.json()], [200, { status: "ok" }]);
    }
    await pg.resume();
    for (const m of [a, b])
      await eventually("200 with the store back", 15_000, async () =>
        (await readyz(m)).status === 200 ? true : undefined,
      );
    // B listened again, and woke the nodes it holds once: notices may have been missed.
    await until(() => held.counter.wakes >= 1, 15_000, "a wake after LISTEN came back");
    assert.ok((await wakes(b, "missed")) >= 1);
    const ms = await timeToNode(
      () => clientA.supply("gw-1", release(3)),
      (d) => d.software.includes(release(3)),
    );
    assert.ok(ms < 2_000, `after the restart: ${ms} ms`);
  });
});
