import { strict as assert } from "node:assert";
import { pino } from "pino";
import { ReadinessCheck } from "../../master/readiness.js";
import { generateKeyPair, ProtocolServer } from "../../protocol/index.js";
import { until } from "../helpers/until.js";
import { hello, MasterHarness } from "./master-harness.js";

const echo = "https://example.org/echo/software.yaml";
const kv = "https://example.org/kv/software.yaml";
const quiet = () => new Promise((r) => setTimeout(r, 300));

describe("master (SQLite): wakes and health probes", function () {
  this.timeout(30_000);
  let h: MasterHarness;

  beforeEach(async () => {
    h = await new MasterHarness().start();
  });
  afterEach(async () => {
    await h.close();
  });

  /** A node link on the master that counts its wakes, held (it said hello and synced). */
  async function heldNode(name: string) {
    const counter = { wakes: 0 };
    const link = h.link(await h.addNode(name), 5_000, { onWake: () => counter.wakes++ });
    await link.hello(hello);
    await link.sync();
    return counter;
  }

  it("wakes the node whose link it holds on each change to its desired state made through the API", async () => {
    const gw1 = await heldNode("gw-1");
    await h.addNode("gw-2"); // never connects
    const step = async (what: string, change: () => Promise<unknown>, woken: number) => {
      await change();
      await until(() => gw1.wakes >= woken, 2_000, what);
      await quiet();
      assert.equal(gw1.wakes, woken, `${what}: once`);
    };
    await step("supply", () => h.client.supply("gw-1", echo), 1);
    await step("supplied again: no change", () => h.client.supply("gw-1", echo), 1);
    await step("another node's supply", () => h.client.supply("gw-2", echo), 1);
    await step(
      "request",
      () => h.client.request({ name: "e1", software: echo, node: "gw-1", parameters: {} }),
      2,
    );
    const waiting = await h.client.request({
      name: "k1",
      software: kv,
      node: "gw-1",
      parameters: {},
    });
    assert.equal(waiting.status, "waiting");
    await quiet();
    assert.equal(gw1.wakes, 2, "a waiting request is no change to the node");
    // Supplying kv: one change for the supply, one for the placement it allows.
    await step("supply that places a waiting request", () => h.client.supply("gw-1", kv), 4);
    await step("destroy", () => h.client.destroy("e1"), 5);
    const lag = (await h.master.metrics.notifyLag.get()).values.find(
      (v) => v.metricName === "outpost_master_notify_lag_seconds_count",
    );
    assert.equal(lag?.value, 5, "each wake's lag measured");
  });

  it("answers /healthz and /readyz without the token, saying nothing but up or not", async () => {
    const health = await fetch(`${h.master.url}/healthz`);
    assert.deepEqual([health.status, await health.json()], [200, { status: "ok" }]);
    const ready = await fetch(`${h.master.url}/readyz`);
    assert.deepEqual([ready.status, await ready.json()], [200, { ready: true, reasons: [] }]);
    assert.equal((await fetch(`${h.master.url}/metrics`)).status, 401, "the rest still needs it");
  });

  it("counts the links it holds in its metrics", async () => {
    await heldNode("gw-1");
    await heldNode("gw-2");
    const text = await h.master.metrics.registry.metrics();
    assert.match(text, /^outpost_master_links_held 2$/m);
  });
});

describe("readiness", () => {
  it("is not ready with its node link down, and probes at once share one check", async () => {
    const h = await new MasterHarness().start();
    const server = await ProtocolServer.listen({
      endpoint: "tcp://127.0.0.1:*",
      keyPair: generateKeyPair(),
      authorize: () => false,
      handle: async () => ({ type: "ack" }),
    });
    try {
      const check = new ReadinessCheck(
        h.master.store,
        () => server.bound,
        pino({ level: "silent" }),
      );
      assert.deepEqual(await check.check(), { ready: true, reasons: [] });
      await server.close();
      const [first, second] = [check.check(), check.check()];
      assert.equal(first, second, "one check for both probes");
      assert.deepEqual(await first, { ready: false, reasons: ["link_down"] });
    } finally {
      await server.close();
      await h.close();
    }
  });
});
