import { strict as assert } from "node:assert";
import type { TelemetryRecord } from "../../../collector/record.js";
import { parseRetention, readTelemetryMessage } from "../../../master/index.js";
import {
  RECORD_SCHEMA_FINGERPRINT,
  RECORD_SCHEMA_TEXT,
  recordChunk,
} from "../../helpers/record-chunks.js";
import type { StoreCase } from "./case.js";

const NOW = Date.UTC(2025, 5, 1, 12);
const DAY = 86_400_000;

function rec(tag: string, ts: number, value: TelemetryRecord["value"]): TelemetryRecord {
  return { device: "turbine-1", tag, ts, value, quality: "good" };
}

/** A chunk of `n` readings of tag `t`, received `id` seconds after NOW (ids from 1). */
function chunkOf(id: number, n = 2, ts = NOW) {
  const records = Array.from({ length: n }, (_, i) => rec("t", ts + i, id * 100 + i));
  return recordChunk("gw-1", id, records, { receivedAt: NOW + id * 1000 });
}

/** Every message waiting, claimed and released again (what a publisher would see). */
async function waiting(c: StoreCase) {
  const messages = await c.store.claimOutbox(1000, 60_000);
  await c.store.settleOutbox(
    [],
    messages.map((m) => m.id),
  );
  return messages;
}

export function outboxCases(c: StoreCase): void {
  describe("telemetry outbox", () => {
    it("holds nothing when the store is opened without it", async () => {
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW);
      await c.store.ingestChunks([chunkOf(1)]);
      assert.deepEqual(await c.store.outboxState(), { messages: 0, oldestAt: null });
      assert.deepEqual(await c.store.claimOutbox(10, 60_000), []);
    });

    it("gets a message for each chunk decoded, on ingest or when its schema comes; none for duplicates or chunks kept raw", async () => {
      await c.reopen({ outbox: true });
      // Chunk 1 awaits its schema: no message until the schema decodes it.
      await c.store.ingestChunks([chunkOf(1, 3)]);
      assert.equal((await c.store.outboxState()).messages, 0);
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW + 1500);
      const damaged = { ...chunkOf(3), body: Buffer.from("not frames") };
      const results = await c.store.ingestChunks([chunkOf(2), chunkOf(1, 3), damaged, chunkOf(2)]);
      assert.deepEqual(
        results.map((r) => r.duplicate),
        [false, true, false, true],
      );
      const messages = await waiting(c);
      assert.deepEqual(
        messages.map((m) => [m.node, m.stream, m.chunkId, m.part, m.parts, m.readings]),
        [
          ["gw-1", "telemetry", 1, 0, 1, 3],
          ["gw-1", "telemetry", 2, 0, 1, 2],
        ],
      );
      const first = readTelemetryMessage(messages[0]?.payload ?? new Uint8Array());
      assert.deepEqual(
        first.readings.map((r) => [r.node, r.stream, r.device, r.tag, r.ts, r.value, r.seq]),
        [
          ["gw-1", "telemetry", "turbine-1", "t", NOW, 100, 1001],
          ["gw-1", "telemetry", "turbine-1", "t", NOW + 1, 101, 1002],
          ["gw-1", "telemetry", "turbine-1", "t", NOW + 2, 102, 1003],
        ],
      );
      // Chunk 1's message was written when the schema came, after chunk 1 (NOW + 1 s) and
      // before chunk 2 (NOW + 2 s) arrived.
      assert.deepEqual(await c.store.outboxState(), { messages: 2, oldestAt: NOW + 1500 });
    });

    it("publishes every record decoded, also those past the raw retention", async () => {
      await c.reopen({ outbox: true, retention: parseRetention(["*:1d:30d"]) });
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW);
      await c.store.ingestChunks([chunkOf(1, 2, NOW - 3 * DAY)]);
      const [message] = await waiting(c);
      assert.equal(message?.readings, 2);
      assert.deepEqual(
        (await c.store.readingCounts()).map((n) => n.expired),
        [2],
      );
    });

    it("leases what a claim took until it is settled: published deleted, the rest released, oldest first", async () => {
      await c.reopen({ outbox: true });
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW);
      await c.store.ingestChunks([chunkOf(1), chunkOf(2), chunkOf(3)]);
      const a = await c.store.claimOutbox(2, 60_000);
      const b = await c.store.claimOutbox(2, 60_000);
      assert.deepEqual(
        a.map((m) => m.chunkId),
        [1, 2],
      );
      assert.deepEqual(
        b.map((m) => m.chunkId),
        [3],
      );
      assert.deepEqual(await c.store.claimOutbox(2, 60_000), []);
      await c.store.settleOutbox([a[0]?.id as number], [a[1]?.id as number]);
      assert.equal((await c.store.outboxState()).messages, 2);
      assert.deepEqual(
        (await c.store.claimOutbox(5, 60_000)).map((m) => m.chunkId),
        [2],
      );
      await c.store.settleOutbox([a[1]?.id as number, b[0]?.id as number], []);
      assert.deepEqual(await c.store.outboxState(), { messages: 0, oldestAt: null });
    });

    it("gives a message to the next claim once its lease ran out (a publisher that stopped)", async () => {
      await c.reopen({ outbox: true });
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW);
      await c.store.ingestChunks([chunkOf(1)]);
      const [first] = await c.store.claimOutbox(5, 1);
      await new Promise((r) => setTimeout(r, 30));
      const [again] = await c.store.claimOutbox(5, 60_000);
      assert.equal(again?.id, first?.id);
      assert.deepEqual(again?.payload, first?.payload);
    });

    it("keeps its messages across a reopen", async () => {
      await c.reopen({ outbox: true });
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW);
      await c.store.ingestChunks([chunkOf(1)]);
      await c.reopen({ outbox: true });
      assert.deepEqual(
        (await waiting(c)).map((m) => m.chunkId),
        [1],
      );
    });
  });
}
