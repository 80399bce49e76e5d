import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Orchestrator, placeInstance, SqliteStore } from "../../master/index.js";
import { addNode } from "./store-conformance/case.js";

const echo = "file:///releases/echo/software.yaml";
const kv = "file:///releases/kv/software.yaml";

describe("master orchestration (instances requesting instances)", () => {
  let dir: string;
  let store: SqliteStore;
  let orchestrator: Orchestrator;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "outpost-orchestration-"));
    store = SqliteStore.open(join(dir, "master.db"));
    orchestrator = new Orchestrator(store, pino({ level: "silent" }));
    await addNode(store, "gw-1", true);
    await addNode(store, "gw-2", true);
    await store.supply("gw-1", echo, 1);
    await store.requestInstance(
      { name: "fe", software: echo, parameters: {}, cores: 0, node: "gw-1" },
      placeInstance,
      1,
    );
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates each requested instance on the parent's node, supplying its software there", async () => {
    await orchestrator.apply(
      "gw-1",
      "fe",
      [{ name: "db", software: kv, parameters: { a: "1" } }],
      2,
    );
    const db = await store.getInstance("fe.db");
    assert.equal(db?.node, "gw-1");
    assert.equal(db?.parent, "fe");
    assert.deepEqual(db?.parameters, { a: "1" });
    assert.deepEqual(await store.listSoftware("gw-1"), [echo, kv]);
  });

  it("marks secret on the child every parameter that carries a secret of its parent", async () => {
    await orchestrator.apply(
      "gw-1",
      "fe",
      [{ name: "db", software: kv, parameters: { a: "1", auth: "x" } }],
      2,
    );
    assert.deepEqual((await store.getInstance("fe.db"))?.secrets.requested, []);
    await orchestrator.apply(
      "gw-1",
      "fe",
      [{ name: "db", software: kv, parameters: { a: "1", auth: "x" }, secrets: ["auth"] }],
      3,
    );
    assert.deepEqual((await store.getInstance("fe.db"))?.secrets.requested, ["auth"]);
  });

  it("updates changed parameters and destroys a child the parent no longer lists", async () => {
    await orchestrator.apply(
      "gw-1",
      "fe",
      [{ name: "db", software: kv, parameters: { a: "1" } }],
      2,
    );
    await orchestrator.apply(
      "gw-1",
      "fe",
      [{ name: "db", software: kv, parameters: { a: "2" } }],
      3,
    );
    assert.deepEqual((await store.getInstance("fe.db"))?.parameters, { a: "2" });
    await orchestrator.apply("gw-1", "fe", [], 4);
    assert.equal((await store.getInstance("fe.db"))?.requestedState, "destroyed");
  });

  it("ignores requests of an instance another node runs, or one being destroyed", async () => {
    await orchestrator.apply("gw-2", "fe", [{ name: "db", software: kv, parameters: {} }], 2);
    assert.equal(await store.getInstance("fe.db"), undefined);
    await store.setRequestedState("fe", "destroyed", 3);
    await orchestrator.apply("gw-1", "fe", [{ name: "db", software: kv, parameters: {} }], 4);
    assert.equal(await store.getInstance("fe.db"), undefined);
  });

  it("tells the parent each child's readiness and connection, and why one could not be made", async () => {
    await orchestrator.apply(
      "gw-1",
      "fe",
      [
        { name: "db", software: kv, parameters: {} },
        { name: "cache", software: kv, parameters: {} },
      ],
      2,
    );
    // gw-1 offers 2 partitions: fe and fe.db take them, so fe.cache cannot be placed.
    await store.applyReport(
      "gw-1",
      [{ name: "fe.db", status: "running", promises: [], connection: { url: "tcp://x:1" } }],
      3,
    );
    const requested = orchestrator.requested("fe", await store.listInstances({ parent: "fe" }));
    assert.deepEqual(requested?.db, {
      instance: "fe.db",
      ready: true,
      status: "running",
      connection: { url: "tcp://x:1" },
    });
    assert.equal(requested?.cache?.ready, false);
    assert.equal(requested?.cache?.status, "failed");
    assert.match(requested?.cache?.message ?? "", /gw-1: all 2 partitions used/);
    assert.equal(orchestrator.requested("other", []), undefined);
  });
});
