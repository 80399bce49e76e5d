import { strict as assert } from "node:assert";
import { generateKeyPair } from "../../../protocol/index.js";
import { facts, type StoreCase } from "./case.js";

export function nodeCases(c: StoreCase): void {
  describe("nodes", () => {
    it("adds a node, finds it by name and by key, lists nodes by name", async () => {
      const key = await c.node("gw-b", false);
      await c.node("gw-a", false);
      const got = await c.store.getNode("gw-b");
      assert.equal(got?.publicKey, key);
      assert.equal(got?.addedAt, 100);
      assert.equal(got?.partitions, 0, "no partitions before hello");
      assert.equal((await c.store.findNodeByKey(key))?.name, "gw-b");
      assert.equal(await c.store.getNode("nope"), undefined);
      assert.equal(await c.store.findNodeByKey(generateKeyPair().publicKey), undefined);
      assert.deepEqual(
        (await c.store.listNodes()).map((n) => n.name),
        ["gw-a", "gw-b"],
      );
    });

    it("refuses a taken name or a taken key with E_MASTER_CONFLICT", async () => {
      const key = await c.node("gw-1", false);
      await assert.rejects(c.store.addNode("gw-1", generateKeyPair().publicKey, 1), {
        code: "E_MASTER_CONFLICT",
        message: /node 'gw-1' already exists/,
      });
      await assert.rejects(c.store.addNode("gw-2", key, 1), {
        code: "E_MASTER_CONFLICT",
        message: /already belongs to node 'gw-1'/,
      });
    });

    it("stores the facts of a hello and the last time a node was seen, never going back", async () => {
      await c.node("gw-1");
      await c.store.touchNodes(new Map([["gw-1", 500]]));
      await c.store.touchNodes(new Map([["gw-1", 400]]));
      const got = await c.store.getNode("gw-1");
      assert.deepEqual(got?.isolatedCores, [2, 3]);
      assert.equal(got?.partitions, 2);
      assert.equal(got?.agentVersion, "0.1.0");
      assert.equal(got?.registeredAt, 200);
      assert.equal(got?.lastSeen, 500);
      await assert.rejects(c.store.registerNode("ghost", facts, 1), { code: "E_MASTER_NOT_FOUND" });
    });
  });
}
