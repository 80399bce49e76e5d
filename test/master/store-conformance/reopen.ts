import { strict as assert } from "node:assert";
import { placeInstance } from "../../../master/index.js";
import { chunk, echo, type StoreCase } from "./case.js";

export function reopenCases(c: StoreCase): void {
  it("keeps all state across a reopen", async () => {
    const key = await c.node("gw-1");
    await c.store.supply("gw-1", echo, 1);
    await c.store.requestInstance(
      { name: "e", software: echo, parameters: { p: "1" }, cores: 1 },
      placeInstance,
      2,
    );
    await c.store.applyReport(
      "gw-1",
      [{ name: "e", status: "running", promises: [], connection: { u: "x" } }],
      3,
    );
    await c.store.ingestChunks([chunk("gw-1", 1)]);
    await c.reopen();
    assert.equal((await c.store.findNodeByKey(key))?.name, "gw-1");
    assert.deepEqual(await c.store.listSoftware("gw-1"), [echo]);
    const e = await c.store.getInstance("e");
    assert.equal(e?.status, "running");
    assert.deepEqual(e?.cores, [2]);
    assert.deepEqual(await c.store.ingestChunks([chunk("gw-1", 1)]), [{ duplicate: true }]);
  });
}
