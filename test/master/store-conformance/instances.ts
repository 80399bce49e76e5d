import { strict as assert } from "node:assert";
import { placeInstance } from "../../../master/index.js";
import { echo, facts, kv, type StoreCase } from "./case.js";

export function instanceCases(c: StoreCase): void {
  describe("software and instances", () => {
    it("supplies software once however often it is supplied; unknown nodes are not found", async () => {
      await c.node("gw-1");
      await c.store.supply("gw-1", echo, 1);
      await c.store.supply("gw-1", echo, 2);
      await c.store.supply("gw-1", kv, 3);
      assert.deepEqual(await c.store.listSoftware("gw-1"), [echo, kv]);
      await assert.rejects(c.store.supply("ghost", echo, 1), { code: "E_MASTER_NOT_FOUND" });
    });

    it("places an instance without a node on a node with the software and a free partition", async () => {
      await c.node("gw-1");
      await c.node("gw-2");
      await c.store.supply("gw-2", echo, 1);
      const inst = await c.store.requestInstance(
        { name: "echo-1", software: echo, parameters: { port: "7000" }, cores: 0 },
        placeInstance,
        10,
      );
      assert.equal(inst.node, "gw-2");
      assert.equal(inst.partition, 0);
      assert.deepEqual(inst.cores, []);
      assert.equal(inst.status, "pending");
      assert.equal(inst.requestedState, "started");
      assert.deepEqual(inst.parameters, { port: "7000" });
    });

    it("never gives one partition or core to two instances, and says why when full", async () => {
      await c.node("gw-1");
      await c.store.supply("gw-1", echo, 1);
      const a = await c.store.requestInstance(
        { name: "a", software: echo, parameters: {}, cores: 1 },
        placeInstance,
        1,
      );
      const b = await c.store.requestInstance(
        { name: "b", software: echo, parameters: {}, cores: 1 },
        placeInstance,
        1,
      );
      assert.notEqual(a.partition, b.partition);
      assert.deepEqual([...a.cores, ...b.cores].sort(), [2, 3]);
      await assert.rejects(
        c.store.requestInstance(
          { name: "c", software: echo, parameters: {}, cores: 0 },
          placeInstance,
          1,
        ),
        { code: "E_MASTER_NO_CAPACITY", message: /gw-1: all 2 partitions used/ },
      );
    });

    it("places a real-time instance only where enough isolated cores are free", async () => {
      await c.node("gw-1");
      await c.store.supply("gw-1", echo, 1);
      await assert.rejects(
        c.store.requestInstance(
          { name: "rt", software: echo, parameters: {}, cores: 3 },
          placeInstance,
          1,
        ),
        { code: "E_MASTER_NO_CAPACITY", message: /2 free isolated cores, 3 asked/ },
      );
      const rt = await c.store.requestInstance(
        { name: "rt", software: echo, parameters: {}, cores: 2 },
        placeInstance,
        1,
      );
      assert.deepEqual(rt.cores, [2, 3]);
    });

    it("refuses software that is not supplied, and an unknown node", async () => {
      await c.node("gw-1");
      await assert.rejects(
        c.store.requestInstance(
          { name: "x", software: kv, parameters: {}, cores: 0 },
          placeInstance,
          1,
        ),
        { code: "E_MASTER_NO_CAPACITY", message: /gw-1: software not supplied/ },
      );
      await assert.rejects(
        c.store.requestInstance(
          { name: "x", software: kv, parameters: {}, node: "ghost", cores: 0 },
          placeInstance,
          1,
        ),
        { code: "E_MASTER_NOT_FOUND" },
      );
      assert.equal(await c.store.getInstance("x"), undefined);
    });

    it("re-requesting an instance updates its parameters and keeps its place; other software switches it there, if supplied", async () => {
      await c.node("gw-1");
      await c.store.supply("gw-1", echo, 1);
      const first = await c.store.requestInstance(
        { name: "e", software: echo, parameters: { a: "1" }, cores: 0 },
        placeInstance,
        1,
      );
      await c.store.setRequestedState("e", "stopped", 2);
      const again = await c.store.requestInstance(
        { name: "e", software: echo, parameters: { a: "2" }, cores: 0 },
        placeInstance,
        3,
      );
      assert.equal(again.partition, first.partition);
      assert.deepEqual(again.parameters, { a: "2" });
      assert.equal(again.requestedState, "started");
      await assert.rejects(
        c.store.requestInstance(
          { name: "e", software: kv, parameters: {}, cores: 0 },
          placeInstance,
          4,
        ),
        { code: "E_MASTER_CONFLICT", message: /supply that to node 'gw-1' first/ },
      );
      await c.store.supply("gw-1", kv, 5);
      const switched = await c.store.requestInstance(
        { name: "e", software: kv, parameters: { b: "1" }, cores: 0 },
        placeInstance,
        6,
      );
      assert.deepEqual(
        [switched.software, switched.node, switched.partition, switched.parameters],
        [kv, "gw-1", first.partition, { b: "1" }],
      );
      assert.equal((await c.store.listInstances()).length, 1);
    });

    it("applies a node's report only to its own instances", async () => {
      await c.node("gw-1");
      await c.node("gw-2");
      await c.store.supply("gw-1", echo, 1);
      await c.store.requestInstance(
        { name: "e", software: echo, parameters: {}, cores: 0 },
        placeInstance,
        1,
      );
      const report = {
        name: "e",
        status: "running" as const,
        promises: [{ name: "listening", ok: true, checkedAt: 5 }],
        connection: { url: "tcp://127.0.1.1:7000" },
      };
      assert.deepEqual(
        await c.store.applyReport("gw-2", [report], 6),
        ["e"],
        "gw-2 does not own e",
      );
      assert.equal((await c.store.getInstance("e"))?.status, "pending");
      assert.deepEqual(await c.store.applyReport("gw-1", [report, { ...report, name: "zz" }], 7), [
        "zz",
      ]);
      const got = await c.store.getInstance("e");
      assert.equal(got?.status, "running");
      assert.deepEqual(got?.connection, { url: "tcp://127.0.1.1:7000" });
      assert.deepEqual(got?.promises, report.promises);
      assert.equal(got?.reportedAt, 7);
      assert.deepEqual((await c.store.listInstances({ node: "gw-2" })).length, 0);
    });

    it("keeps secret marks: the requester's for the instance's life, the node's per release, carried from waiting to placed", async () => {
      await c.node("gw-1", false);
      await c.store.supply("gw-1", echo, 1);
      await c.store.supply("gw-1", kv, 1);
      const waiting = await c.store.requestInstance(
        { name: "s", software: echo, parameters: {}, secrets: ["a"], cores: 0 },
        placeInstance,
        1,
        { wait: true },
      );
      assert.deepEqual(waiting.secrets, { requested: ["a"], reported: null });
      await c.store.registerNode("gw-1", { ...facts, partitions: 1 }, 2);
      await c.store.placeWaiting(placeInstance, 3);
      assert.deepEqual((await c.store.getInstance("s"))?.secrets, {
        requested: ["a"],
        reported: null,
      });
      const reported = { software: echo, parameters: ["p"], connection: ["dsn"] };
      const report = { name: "s", status: "running" as const, promises: [], connection: {} };
      await c.store.applyReport("gw-1", [{ ...report, secrets: reported }], 4);
      await c.store.applyReport("gw-1", [report], 5);
      assert.deepEqual(
        (await c.store.getInstance("s"))?.secrets.reported,
        reported,
        "a report without secrets keeps the last ones",
      );
      const again = await c.store.requestInstance(
        { name: "s", software: echo, parameters: {}, secrets: ["b"], cores: 0 },
        placeInstance,
        6,
      );
      assert.deepEqual(again.secrets, { requested: ["a", "b"], reported });
      const switched = await c.store.requestInstance(
        { name: "s", software: kv, parameters: {}, cores: 0 },
        placeInstance,
        7,
      );
      assert.deepEqual(switched.secrets, { requested: ["a", "b"], reported: null });
      await c.store.applyReport("gw-1", [{ ...report, secrets: reported }], 8);
      assert.equal(
        (await c.store.getInstance("s"))?.secrets.reported,
        null,
        "keys of the release it left are not taken",
      );
    });

    it("keeps a request no node can take as waiting, with the reason and no place, and places it once one is free", async () => {
      await c.node("gw-1", false);
      await c.store.supply("gw-1", echo, 1);
      const waiting = await c.store.requestInstance(
        { name: "w", software: echo, parameters: { a: "1" }, node: "gw-1", cores: 0 },
        placeInstance,
        2,
        { wait: true },
      );
      assert.deepEqual(
        [waiting.status, waiting.node, waiting.partition],
        ["waiting", "gw-1", null],
      );
      assert.match(
        waiting.promises[0]?.message ?? "",
        /waiting: .*gw-1: no partitions \(has the node said hello\?\)/,
      );
      assert.equal((await c.store.getInstance("w"))?.status, "waiting");
      assert.deepEqual(
        (await c.store.listInstances()).map((i) => i.name),
        ["w"],
        "listed with the others",
      );
      assert.deepEqual(await c.store.listInstances({ node: "gw-1" }), [], "never sent to a node");
      assert.deepEqual(await c.store.placeWaiting(placeInstance, 3), [], "still no partition");
      await c.store.registerNode("gw-1", { ...facts, partitions: 1 }, 4);
      assert.deepEqual(await c.store.placeWaiting(placeInstance, 5), ["w"]);
      const placed = await c.store.getInstance("w");
      assert.deepEqual(
        [placed?.status, placed?.node, placed?.partition, placed?.parameters],
        ["pending", "gw-1", 0, { a: "1" }],
      );
      // Full again: without wait it is refused at once, with a code.
      await assert.rejects(
        c.store.requestInstance(
          { name: "x", software: echo, parameters: {}, cores: 0 },
          placeInstance,
          6,
        ),
        { code: "E_MASTER_NO_CAPACITY" },
      );
      assert.equal(await c.store.getInstance("x"), undefined);
      await c.store.requestInstance(
        { name: "x", software: echo, parameters: {}, cores: 0 },
        placeInstance,
        7,
        { wait: true },
      );
      await assert.rejects(c.store.setRequestedState("x", "stopped", 8), {
        code: "E_MASTER_CONFLICT",
      });
      assert.equal(
        (await c.store.setRequestedState("x", "destroyed", 9)).requestedState,
        "destroyed",
      );
      assert.equal(
        await c.store.getInstance("x"),
        undefined,
        "a waiting request is simply dropped",
      );
    });

    it("frees an instance's partition once the node reports it destroyed, not before", async () => {
      await c.node("gw-1");
      await c.store.supply("gw-1", echo, 1);
      const one = { ...facts, partitions: 1 };
      await c.store.registerNode("gw-1", one, 1);
      await c.store.requestInstance(
        { name: "e", software: echo, parameters: {}, cores: 0 },
        placeInstance,
        1,
      );
      await c.store.setRequestedState("e", "destroyed", 2);
      await assert.rejects(
        c.store.requestInstance(
          { name: "f", software: echo, parameters: {}, cores: 0 },
          placeInstance,
          3,
        ),
        { code: "E_MASTER_NO_CAPACITY" },
      );
      await c.store.applyReport(
        "gw-1",
        [{ name: "e", status: "destroyed", promises: [], connection: {} }],
        4,
      );
      assert.equal(await c.store.getInstance("e"), undefined);
      const f2 = await c.store.requestInstance(
        { name: "f", software: echo, parameters: {}, cores: 0 },
        placeInstance,
        5,
      );
      assert.equal(f2.partition, 0);
      await assert.rejects(c.store.setRequestedState("e", "stopped", 6), {
        code: "E_MASTER_NOT_FOUND",
      });
    });

    it("keeps each usage figure of a node's own instances once, newest first", async () => {
      await c.node("gw-1");
      await c.node("gw-2");
      await c.store.supply("gw-1", echo, 1);
      await c.store.requestInstance(
        { name: "e", software: echo, parameters: {}, cores: 0 },
        placeInstance,
        1,
      );
      const u = { instance: "e", from: 0, to: 60_000, cpuSeconds: 1.5, memoryPeakBytes: 1024 };
      assert.deepEqual(
        await c.store.addUsage("gw-1", [u, { ...u, from: 60_000, to: 120_000 }], 10),
        [],
      );
      await c.store.addUsage("gw-1", [u], 11);
      assert.deepEqual(
        await c.store.addUsage("gw-2", [{ ...u, from: 120_000, to: 180_000, cpuSeconds: 9 }], 12),
        ["e"],
        "gw-2 does not run e",
      );
      assert.deepEqual(await c.store.addUsage("gw-1", [{ ...u, instance: "zz" }], 13), ["zz"]);
      const usage = await c.store.listUsage("e");
      assert.deepEqual(
        usage.map((x) => [x.to, x.cpuSeconds]),
        [
          [120_000, 1.5],
          [60_000, 1.5],
        ],
      );
    });

    it("lists the instances one instance requested, and destroys them, and theirs, with it", async () => {
      await c.node("gw-1");
      await c.node("gw-2");
      for (const n of ["gw-1", "gw-2"]) await c.store.supply(n, echo, 1);
      const ask = (name: string, node: string, parent?: string) =>
        c.store.requestInstance(
          { name, software: echo, parameters: {}, cores: 0, node, ...(parent ? { parent } : {}) },
          placeInstance,
          2,
        );
      assert.equal((await ask("a", "gw-1")).parent, null);
      assert.equal((await ask("a.b", "gw-1", "a")).parent, "a");
      await ask("a.b.c", "gw-2", "a.b");
      await ask("other", "gw-2");
      assert.deepEqual(
        (await c.store.listInstances({ parent: "a" })).map((i) => i.name),
        ["a.b"],
      );
      assert.deepEqual(
        (await c.store.listInstances({ node: "gw-2", parent: "a.b" })).map((i) => i.name),
        ["a.b.c"],
      );
      await c.store.setRequestedState("a", "destroyed", 3);
      const states = Object.fromEntries(
        (await c.store.listInstances()).map((i) => [i.name, i.requestedState]),
      );
      assert.deepEqual(states, {
        a: "destroyed",
        "a.b": "destroyed",
        "a.b.c": "destroyed",
        other: "started",
      });
      assert.equal((await (await c.reopen()).getInstance("a.b"))?.parent, "a");
    });
  });
}
