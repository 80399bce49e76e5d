import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Context } from "zeromq";
import { silentLogger } from "../../common/index.js";
import { MasterClient, openDataDir } from "../../master/index.js";
import {
  type FailoverEvent,
  generateKeyPair,
  type KeyPair,
  NodeLink,
  type NodeLinkOptions,
  type NodeRequest,
  type ReplyBody,
} from "../../protocol/index.js";
import { freePort } from "../helpers/free-port.js";
import { eventually, until } from "../helpers/until.js";
import { startMasterProcess, stopMasterProcess } from "../master/master-process.js";
import {
  type Harness,
  sampleChunk,
  sampleHello,
  startHarness,
  startOnFirst,
} from "./link-harness.js";

/** The bound within which a node must be on another master once its own is gone. */
const FAILOVER_BOUND_MS = 15_000;

describe("NodeLink failing over between masters", function () {
  this.timeout(90_000);
  const links: NodeLink[] = [];
  const harnesses: Harness[] = [];
  let node: KeyPair;
  let master: KeyPair;

  beforeEach(() => {
    node = generateKeyPair();
    master = generateKeyPair();
  });

  afterEach(async () => {
    await Promise.all(links.splice(0).map((l) => l.close()));
    await Promise.all(harnesses.splice(0).map((h) => h.close()));
  });

  /** A master on loopback sharing the fleet's key pair, admitting the test's node. */
  async function masterWith(
    handle?: (request: NodeRequest) => Promise<ReplyBody>,
    endpoint = "tcp://127.0.0.1:*",
  ): Promise<Harness> {
    const h = await startHarness(handle, { keyPair: master, endpoint });
    h.known.add(node.publicKey);
    harnesses.push(h);
    return h;
  }

  function linkTo(endpoint: string | string[], options: Partial<NodeLinkOptions> = {}): NodeLink {
    const link = new NodeLink({
      endpoint,
      masterPublicKey: master.publicKey,
      keyPair: node,
      timeoutMs: 10_000,
      random: startOnFirst(),
      ...options,
    });
    links.push(link);
    return link;
  }

  it("moves to the other master when its own closes mid-stream: every chunk in flight goes again and is acked", async () => {
    const a = await masterWith();
    const b = await masterWith();
    const [first, second] = [a.server.endpoint, b.server.endpoint];
    const moved: FailoverEvent[] = [];
    const link = linkTo([first, second], { onFailover: (e) => moved.push(e) });
    const acked = new Set<number>();
    const failed: unknown[] = [];
    let next = 0;
    let stop = false;
    // Four senders, one chunk in flight each, as a forwarder's window does.
    const senders = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const id = next++;
        try {
          const ack = await link.send(sampleChunk(id));
          acked.add(ack.chunkId);
        } catch (err) {
          failed.push(err);
        }
      }
    });
    await until(() => acked.size >= 100, 20_000, "100 chunks on the first master");
    assert.equal(link.endpoint, first, "it started on its first endpoint");
    const closedAt = Date.now();
    await a.server.close();
    const ackedBefore = acked.size;
    await until(
      () => b.handled.some((r) => r.type === "telemetry") && acked.size >= ackedBefore + 100,
      FAILOVER_BOUND_MS,
      "chunks never flowed on the other master",
    );
    const tookMs = Date.now() - closedAt;
    stop = true;
    await Promise.all(senders);
    assert.deepEqual(failed, [], "no send failed across the failover");
    assert.equal(link.endpoint, second);
    assert.equal(link.failovers, 1);
    assert.deepEqual(
      moved.map((e) => [e.from, e.to]),
      [[first, second]],
    );
    const seen = new Set(
      [...a.handled, ...b.handled].flatMap((r) => (r.type === "telemetry" ? [r.chunkId] : [])),
    );
    for (const id of acked) assert.ok(seen.has(id), `chunk ${id} was acked yet no master had it`);
    assert.ok(tookMs < FAILOVER_BOUND_MS, `${tookMs} ms`);
  });

  it("fails a report in flight at the switch with E_PROTOCOL_FAILOVER, and serves the next from the other master", async () => {
    const a = await masterWith(() => new Promise(() => {}));
    const b = await masterWith();
    const first = a.server.endpoint;
    const link = linkTo([first, b.server.endpoint], { timeoutMs: 30_000 });
    const reporting = link.report({ instances: [], usage: [] });
    const syncing = link.sync();
    await until(() => a.handled.length === 2, 10_000, "the first master never got both");
    const closedAt = Date.now();
    await a.server.close();
    await assert.rejects(reporting, (err: Error & { code?: string; from?: string }) => {
      assert.equal(err.code, "E_PROTOCOL_FAILOVER");
      assert.equal(err.from, first);
      return true;
    });
    assert.ok(await syncing, "the sync in flight went again to the other master");
    assert.ok(Date.now() - closedAt < 5_000, "neither waited for its timeout");
    assert.deepEqual(
      b.handled.map((r) => r.type),
      ["sync"],
      "the report was not sent again by the link",
    );
    assert.deepEqual(await link.report({ instances: [], usage: [] }), []);
  });

  it("starts on another master when the first one is down", async () => {
    const b = await masterWith();
    const dead = `tcp://127.0.0.1:${await freePort()}`;
    const link = linkTo([dead, b.server.endpoint]);
    const startedAt = Date.now();
    assert.ok(await link.sync());
    assert.ok(Date.now() - startedAt < 5_000, "the refused endpoint was left at once");
    assert.equal(link.endpoint, b.server.endpoint);
    assert.equal(link.failovers, 1);
  });

  it("leaves a master that answers heartbeats but no request once a request times out with nothing heard", async () => {
    // Heartbeats far apart: only the unanswered request can tell this master is no use.
    const heartbeat = { intervalMs: 60_000, timeoutMs: 120_000 };
    const a = await masterWith(() => new Promise(() => {}));
    const b = await masterWith();
    const link = linkTo([a.server.endpoint, b.server.endpoint], { timeoutMs: 1_500, heartbeat });
    await assert.rejects(link.sync(), { code: "E_PROTOCOL_TIMEOUT" });
    await until(() => link.endpoint === b.server.endpoint, 5_000, "it stayed on the silent one");
    assert.ok(await link.sync());
  });

  it("keeps a slow master that answers other requests meanwhile", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const a = await masterWith(async (request) => {
      if (request.type === "report") await held;
      return request.type === "sync"
        ? { type: "desired", software: [], instances: [] }
        : { type: "ack" };
    });
    const b = await masterWith();
    const link = linkTo([a.server.endpoint, b.server.endpoint], { timeoutMs: 1_500 });
    const slow = link.report({ instances: [], usage: [] });
    const syncs = (async () => {
      const end = Date.now() + 2_500;
      while (Date.now() < end) await link.sync();
    })();
    await assert.rejects(slow, { code: "E_PROTOCOL_TIMEOUT" });
    await syncs;
    release();
    assert.equal(link.endpoint, a.server.endpoint);
    assert.equal(link.failovers, 0);
    assert.equal(b.handled.length, 0);
  });

  it("goes round the addresses of one DNS name, resolved again on every move", async () => {
    const port = await freePort();
    const a = await masterWith(undefined, `tcp://127.0.0.1:${port}`);
    const b = await masterWith(undefined, `tcp://127.0.0.2:${port}`);
    const asked: string[] = [];
    const link = linkTo(`tcp://masters.fleet.test:${port}`, {
      resolve: async (host) => {
        asked.push(host);
        return ["127.0.0.2", "127.0.0.1"];
      },
    });
    assert.ok(await link.sync());
    assert.equal(link.endpoint, `tcp://127.0.0.1:${port}`, "addresses in order, from the first");
    await a.server.close();
    await until(() => link.endpoint === `tcp://127.0.0.2:${port}`, FAILOVER_BOUND_MS, "no move");
    assert.ok(await link.sync());
    assert.equal(b.handled.length, 1);
    assert.deepEqual(asked, ["masters.fleet.test", "masters.fleet.test"]);
  });

  it("resolves a DNS name with the system's resolver: localhost reaches a master on 127.0.0.1", async () => {
    const a = await masterWith();
    const port = /:(\d+)$/.exec(a.server.endpoint)?.[1];
    const link = linkTo(`tcp://localhost:${port}`);
    assert.ok(await link.sync());
    assert.equal(link.endpoint, `tcp://127.0.0.1:${port}`);
  });

  it("releases every socket of the connections it leaves: 20 links going round dead masters fit a 64-socket context", async () => {
    // Each connection holds a DEALER and two monitor sockets: 20 links of 4 connections
    // each would need 240 if the ones left were not closed.
    const context = new Context({ maxSockets: 64 });
    const dead = [`tcp://127.0.0.1:${await freePort()}`, `tcp://127.0.0.1:${await freePort()}`];
    const errors: string[] = [];
    const logger = {
      ...silentLogger,
      error: (_fields: object, event: string) => errors.push(event),
      child: () => logger,
    };
    for (let i = 0; i < 20; i++) {
      const link = new NodeLink({
        endpoint: dead,
        masterPublicKey: master.publicKey,
        keyPair: node,
        context,
        failover: { backoff: { initialMs: 1, maxMs: 5 } },
        logger,
      });
      await until(() => link.failovers >= 3, 5_000, "the link never went round");
      await link.close();
    }
    assert.deepEqual(errors, [], "a link could not open a socket");
    const live = await masterWith();
    const last = linkTo([live.server.endpoint, dead[0] as string], { context });
    assert.ok(await last.sync(), "the context still has sockets for a link that works");
  });

  it("close while waiting to move rejects what waits with E_PROTOCOL_CLOSED, at once", async () => {
    const dead = [`tcp://127.0.0.1:${await freePort()}`, `tcp://127.0.0.1:${await freePort()}`];
    const link = linkTo(dead, { failover: { backoff: { initialMs: 60_000, maxMs: 60_000 } } });
    const waiting = link.sync();
    await until(() => link.endpoint === undefined, 5_000, "it never left the first");
    const closing = Date.now();
    await link.close();
    await assert.rejects(waiting, { code: "E_PROTOCOL_CLOSED" });
    assert.ok(Date.now() - closing < 2_000);
  });

  it("refuses a bad endpoint naming it, and several masters without the handshake watch", () => {
    assert.throws(
      () => linkTo(["tcp://127.0.0.1:1", "udp://127.0.0.1:2"]),
      (err: Error & { code?: string }) =>
        err.code === "E_PROTOCOL_CONFIG" && /entry 2 'udp:\/\/127\.0\.0\.1:2'/.test(err.message),
    );
    assert.throws(() => linkTo(["tcp://127.0.0.1:1", "tcp://127.0.0.1:2"], { observe: false }), {
      code: "E_PROTOCOL_CONFIG",
    });
  });
});

describe("NodeLink failing over from a master process that dies or freezes", function () {
  this.timeout(120_000);
  let data: string;
  let node: KeyPair;
  let other: Harness | undefined;
  let link: NodeLink | undefined;
  let child: ReturnType<typeof startMasterProcess>["child"] | undefined;

  beforeEach(() => {
    data = mkdtempSync(join(tmpdir(), "outpost-failover-"));
    node = generateKeyPair();
  });

  afterEach(async () => {
    await link?.close();
    await other?.close();
    if (child) {
      // A frozen master must run again to die of SIGTERM; SIGKILL needs no help.
      child.kill("SIGCONT");
      await stopMasterProcess(child, "SIGKILL");
    }
    rmSync(data, { recursive: true, force: true });
  });

  /** `outpost master start` as a child, and a second master in this process with its key pair. */
  async function twoMasters(): Promise<{ first: string; second: string }> {
    const proc = startMasterProcess(data);
    child = proc.child;
    const started = await proc.started;
    const token = readFileSync(join(data, "admin.token"), "utf8").trim();
    await new MasterClient(started.url, token).addNode("gw-1", node.publicKey);
    other = await startHarness(undefined, { keyPair: openDataDir(data).keyPair });
    other.known.add(node.publicKey);
    link = new NodeLink({
      endpoint: [started.endpoint, other.server.endpoint],
      masterPublicKey: started.publicKey,
      keyPair: node,
      timeoutMs: 3_000,
      random: startOnFirst(),
    });
    assert.equal((await link.hello(sampleHello)).name, "gw-1");
    assert.equal(link.endpoint, started.endpoint);
    return { first: started.endpoint, second: other.server.endpoint };
  }

  /** Time until an idle link holds `second` and a sync is answered there. */
  async function timeToServe(second: string, since: number): Promise<number> {
    await until(() => link?.endpoint === second, FAILOVER_BOUND_MS, "the link never moved");
    await eventually("a sync answered by the other master", FAILOVER_BOUND_MS, async () =>
      (await link?.sync().catch(() => undefined)) ? true : undefined,
    );
    assert.ok(other?.handled.some((r) => r.type === "sync"));
    return Date.now() - since;
  }

  it("SIGKILL: the node is on the other master within 15 s", async () => {
    const { second } = await twoMasters();
    const killedAt = Date.now();
    assert.equal(await stopMasterProcess(child as NonNullable<typeof child>, "SIGKILL"), null);
    const took = await timeToServe(second, killedAt);
    assert.ok(took < FAILOVER_BOUND_MS, `${took} ms`);
    assert.equal(link?.failovers, 1);
  });

  it("SIGSTOP (no reset reaches the node): heartbeats find it, the node is on the other master within 15 s", async () => {
    const { second } = await twoMasters();
    const frozenAt = Date.now();
    (child as NonNullable<typeof child>).kill("SIGSTOP");
    // Idle: no request tells the link, only the heartbeats it sends and gets no answer to.
    const took = await timeToServe(second, frozenAt);
    assert.ok(took < FAILOVER_BOUND_MS, `${took} ms`);
    assert.equal(link?.failovers, 1);
  });
});
