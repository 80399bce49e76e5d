import { strict as assert } from "node:assert";

import { chunk, type StoreCase } from "./case.js";

export function telemetryCases(c: StoreCase): void {
  describe("telemetry", () => {
    it("stores a chunk once per (node, chunk id): a resend is a duplicate, other nodes' ids are their own", async () => {
      const first = await c.store.ingestChunks([
        chunk("gw-1", 1),
        chunk("gw-1", 2),
        chunk("gw-2", 1),
      ]);
      assert.deepEqual(
        first.map((r) => r.duplicate),
        [false, false, false],
      );
      const again = await c.store.ingestChunks([
        chunk("gw-1", 2, { body: Buffer.from("changed") }),
        chunk("gw-1", 3),
        chunk("gw-1", 3),
      ]);
      assert.deepEqual(
        again.map((r) => r.duplicate),
        [true, false, true],
      );
      const stored = await c.store.queryChunks({ node: "gw-1", withBody: true });
      assert.deepEqual(
        stored.map((c) => c.chunkId),
        [1, 2, 3],
      );
      assert.equal(Buffer.from(stored[1]?.body ?? []).toString(), "chunk 2", "first copy kept");
    });

    it("keeps the sequence range, schema and compression of every chunk", async () => {
      await c.store.ingestChunks([
        chunk("gw-1", 4, { compression: "deflate", firstSeq: 40, lastSeq: 45, records: 6 }),
      ]);
      const [got] = await c.store.queryChunks({});
      assert.equal(got?.firstSeq, 40);
      assert.equal(got?.lastSeq, 45);
      assert.equal(got?.records, 6);
      assert.equal(got?.compression, "deflate");
      assert.deepEqual(Buffer.from(got?.schema ?? []), Buffer.from([9, 9]));
      assert.equal(got?.body.length, 0, "no body unless asked");
    });

    it("filters by node, stream and receive time, oldest first, up to the limit", async () => {
      await c.store.ingestChunks([
        chunk("gw-1", 1),
        chunk("gw-1", 2, { stream: "grid" }),
        chunk("gw-2", 3),
        chunk("gw-1", 4),
      ]);
      assert.deepEqual(
        (await c.store.queryChunks({ node: "gw-1", stream: "turbine" })).map((c) => c.chunkId),
        [1, 4],
      );
      assert.deepEqual(
        (await c.store.queryChunks({ since: 2_003 })).map((c) => c.chunkId),
        [3, 4],
      );
      assert.deepEqual(
        (await c.store.queryChunks({ limit: 2 })).map((c) => c.chunkId),
        [1, 2],
      );
    });

    it("stores each loss event once per (node, loss id)", async () => {
      const loss = {
        node: "gw-1",
        lossId: 1,
        stream: "turbine",
        reason: "overflow" as const,
        chunkId: 3,
        fromSeq: 30,
        toSeq: 39,
        records: 10,
        at: 50,
        receivedAt: 60,
      };
      assert.deepEqual(await c.store.recordLosses([loss]), [{ duplicate: false }]);
      assert.deepEqual(await c.store.recordLosses([loss, { ...loss, node: "gw-2" }]), [
        { duplicate: true },
        { duplicate: false },
      ]);
      const got = await c.store.queryLosses({ node: "gw-1" });
      assert.deepEqual(got, [loss]);
    });
  });
}
