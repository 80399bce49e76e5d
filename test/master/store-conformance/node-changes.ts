import { strict as assert } from "node:assert";
import { type NodeChange, placeInstance } from "../../../master/index.js";
import { eventually } from "../../helpers/until.js";
import { echo, type StoreCase } from "./case.js";

export function nodeChangeCases(c: StoreCase): void {
  describe("node changes", () => {
    it("tells its listeners of each committed change to a node's desired state, once, and of nothing else", async () => {
      const heard: NodeChange[] = [];
      const stop = c.store.onNodeChanged((change) => heard.push(change));
      const request = (name: string) =>
        c.store.requestInstance(
          { name, software: echo, parameters: {}, node: "gw-1", cores: 0 },
          placeInstance,
          10,
          { wait: true },
        );
      const before = Date.now();
      await c.node("gw-1"); // added: one change (its hello is not one)
      await c.store.supply("gw-1", echo, 1); // one
      await c.store.supply("gw-1", echo, 2); // supplied already: none
      await request("a"); // placed: one
      await request("b"); // placed (the node's second and last partition): one
      assert.equal((await request("c")).status, "waiting"); // waiting: none
      await c.store.setRequestedState("a", "stopped", 20); // one
      await c.store.setRequestedState("a", "destroyed", 21); // one
      await assert.rejects(
        c.store.supply("ghost", echo, 3),
        { code: "E_MASTER_NOT_FOUND" },
        "a failed change is none",
      );
      await c.store.applyReport(
        "gw-1",
        [{ name: "a", status: "destroyed", promises: [], connection: {} }],
        30,
      ); // the node's own report: none
      assert.deepEqual(await c.store.placeWaiting(placeInstance, 31), ["c"]); // one
      await c.node("zz-last");
      await eventually("the last change", 10_000, () =>
        heard.some((h) => h.node === "zz-last") ? true : undefined,
      );
      stop();
      assert.deepEqual(
        heard.map((h) => h.node),
        ["gw-1", "gw-1", "gw-1", "gw-1", "gw-1", "gw-1", "gw-1", "zz-last"],
      );
      for (const h of heard) assert.ok(h.at >= before && h.at <= Date.now(), `at ${h.at}`);
      await c.node("gw-2");
      await c.node("zz-after");
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(heard.length, 8, "a listener that stopped hears nothing more");
    });
  });
}
