import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BufferConfigInput,
  DiskBuffer,
  Forwarder,
  resolveConfig,
  type Sink,
} from "../../buffer/index.js";
import { encodeRecord, RECORD_SCHEMA, RECORD_SCHEMA_FINGERPRINT } from "../../collector/record.js";
import { type FaultProxy, startFaultProxy } from "../../common/index.js";
import { type KeyPair, NodeLink, TelemetrySink } from "../../protocol/index.js";
import { recordsOf } from "../helpers/local-sink/store.js";
import { collectPages } from "../helpers/record-chunks.js";
import { until } from "../helpers/until.js";
import { MasterHarness } from "../master/master-harness.js";

/**
 * The telemetry path as built: a real DiskBuffer and its Forwarder on the node, a
 * TelemetrySink on a CURVE NodeLink, a real master (ZAP, SQLite ingest) behind a loopback
 * proxy that can hold the master's acks back.
 */
describe("TelemetrySink: buffer → master over CURVE", function () {
  this.timeout(60_000);
  let h: MasterHarness;
  let proxy: FaultProxy;
  let work: string;
  let keys: KeyPair;
  let buffer: DiskBuffer | undefined;
  let forwarder: Forwarder | undefined;
  let sink: TelemetrySink | undefined;

  beforeEach(async () => {
    work = mkdtempSync(join(tmpdir(), "outpost-telemetry-sink-"));
    h = await new MasterHarness().start();
    keys = await h.addNode("gw-1");
    const port = Number(/:(\d+)$/.exec(h.master.endpoint)?.[1]);
    proxy = await startFaultProxy({ host: "127.0.0.1", port });
  });

  afterEach(async () => {
    await forwarder?.stop();
    await buffer?.close();
    await sink?.close();
    await proxy.close();
    await h.close();
    rmSync(work, { recursive: true, force: true });
  });

  async function startNode(
    ackTimeoutMs: number,
    overrides: Partial<BufferConfigInput> = {},
    forwarding = true,
  ): Promise<DiskBuffer> {
    const config = resolveConfig({
      dir: join(work, "buffer"),
      defaults: { sealBytes: 2 * 1024, sealAgeMs: 20 },
      streams: { alarms: { priority: 10 } },
      forward: { window: 4, ackTimeoutMs, backoffBaseMs: 20, backoffCapMs: 200 },
      ...overrides,
    });
    buffer = await DiskBuffer.open(config);
    sink = new TelemetrySink(
      new NodeLink({
        endpoint: `tcp://127.0.0.1:${proxy.port}`,
        masterPublicKey: h.master.publicKey,
        keyPair: keys,
        timeoutMs: 20_000,
      }),
    );
    const asSink: Sink = sink;
    forwarder = new Forwarder(buffer, asSink, config.forward);
    if (forwarding) forwarder.start();
    return buffer;
  }

  async function append(b: DiskBuffer, from: number, count: number, sent: Map<string, string[]>) {
    // Concurrent appends share fsyncs; each stream's order is the order of the calls.
    const appending: Promise<unknown>[] = [];
    for (let n = from; n < from + count; n++) {
      const stream = n % 5 === 0 ? "alarms" : "bulk";
      const record = JSON.stringify({ stream, n, pad: "x".repeat(40) });
      sent.set(stream, [...(sent.get(stream) ?? []), record]);
      appending.push(b.append(stream, [Buffer.from(record)]));
    }
    await Promise.all(appending);
  }

  /** What the master stored: each chunk once, each stream's records exactly as appended. */
  async function assertStoredOnce(sent: Map<string, string[]>): Promise<number> {
    const chunks = await h.master.store.queryChunks({
      node: "gw-1",
      withBody: true,
      limit: 100_000,
    });
    const ids = chunks.map((c) => c.chunkId);
    assert.equal(new Set(ids).size, ids.length, "a chunk id was stored twice");
    for (const [stream, records] of sent) {
      const stored = chunks
        .filter((c) => c.stream === stream)
        .sort((a, b) => a.firstSeq - b.firstSeq)
        .flatMap((c) =>
          recordsOf({ ...c, schema: Buffer.from(c.schema), body: Buffer.from(c.body) }),
        );
      assert.deepEqual(
        stored.map((r) => r.payload.toString()),
        records,
        `${stream}: the master's records differ from what was appended`,
      );
      assert.deepEqual(
        stored.map((r) => r.seq),
        records.map((_, i) => i + 1),
        `${stream}: sequence numbers are not 1..n`,
      );
    }
    return chunks.length;
  }

  it("forwards every sealed chunk of a real buffer to a real master, stored once, records intact", async () => {
    const b = await startNode(5_000);
    const sent = new Map<string, string[]>();
    // Six rounds, each sealed: at least one chunk per stream per round, however the
    // buffer batches concurrent appends on a loaded box.
    for (let round = 0; round < 6; round++) {
      await append(b, round * 50, 50, sent);
      await b.sealAll();
    }
    await until(() => b.metrics().backlogRecords === 0, 30_000, "the backlog never drained");
    const stored = await assertStoredOnce(sent);
    assert.ok(stored >= 12, `only ${stored} chunks: the test should span several`);
    assert.equal(b.metrics().deliveredChunks, stored);
    assert.equal(sink?.stats.acked, stored);
    assert.equal(sink?.stats.duplicates, 0, "nothing was resent on a clean link");
  });

  it("resends chunks whose acks were lost, and the master stores each of them exactly once", async () => {
    const b = await startNode(400);
    const sent = new Map<string, string[]>();
    await append(b, 0, 50, sent);
    await b.sealAll();
    await until(() => b.metrics().backlogRecords === 0, 30_000, "the first chunks never drained");
    const before = b.metrics().deliveredChunks;

    proxy.holdReplies();
    await append(b, 50, 150, sent);
    await b.sealAll();
    // The master commits the chunks and acks them; the acks wait in the proxy, the
    // forwarder's ack timeout fires, and it sends the same chunks again.
    const committed = async () =>
      (await h.master.store.queryChunks({ node: "gw-1", limit: 100_000 })).length;
    const deadline = Date.now() + 20_000;
    while ((await committed()) < before + 2 || b.metrics().retries < 2) {
      if (Date.now() > deadline) throw new Error("the master never got the held chunks twice");
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(b.metrics().deliveredChunks, before, "no ack got through the hold");
    assert.ok(b.metrics().backlogRecords > 0);

    proxy.release();
    await until(() => b.metrics().backlogRecords === 0, 30_000, "the backlog never drained");
    await assertStoredOnce(sent);
    assert.ok(
      (sink?.stats.duplicates ?? 0) > 0,
      "the master acked resent chunks as duplicates (a resend really happened)",
    );
    const metrics = await h.master.metrics.registry.getSingleMetricAsString(
      "outpost_master_telemetry_chunks_total",
    );
    assert.match(metrics, /result="duplicate"\} [1-9]/);
  });

  it("reports the buffer's overflow losses to the master, which stores each once: lost and stored ranges cover every record", async () => {
    // The link is down (forwarder not started) while the buffer overflows: drop_oldest
    // throws whole sealed chunks away and records a loss event for each.
    const b = await startNode(
      2_000,
      { maxChunks: 3, defaults: { sealBytes: 1024, sealAgeMs: 20, overflow: "drop_oldest" } },
      false,
    );
    // One stream: drop_oldest drops the appending stream's own chunks.
    for (let round = 0; round < 8; round++) {
      const records = Array.from({ length: 20 }, (_, i) =>
        Buffer.from(JSON.stringify({ n: round * 20 + i, pad: "x".repeat(40) })),
      );
      await b.append("bulk", records);
      await b.sealAll();
    }
    const dropped = b.metrics().droppedRecords;
    assert.ok(dropped > 0, "the buffer overflowed");

    forwarder?.start();
    await until(
      () => b.metrics().backlogRecords === 0 && b.metrics().pendingLossEvents === 0,
      30_000,
      "chunks or loss events never drained",
    );
    const answer = await h.client.telemetry({ node: "gw-1", limit: 100_000 });
    const lossIds = answer.losses.map((l) => l.lossId);
    assert.equal(new Set(lossIds).size, lossIds.length, "a loss event was stored twice");
    assert.equal(
      answer.losses.reduce((n, l) => n + l.records, 0),
      dropped,
      "every dropped record is accounted for at the master",
    );
    assert.equal(sink?.stats.lossesAcked, lossIds.length);
    // Lost and stored ranges together are exactly the 160 records appended, once each.
    const ranges = [
      ...answer.losses.map((l) => [l.fromSeq, l.toSeq]),
      ...answer.chunks.map((c) => [c.firstSeq, c.lastSeq]),
    ].sort((x, y) => (x[0] ?? 0) - (y[0] ?? 0));
    let next = 1;
    for (const [from, to] of ranges) {
      assert.equal(from, next, `seq ${next} is neither stored nor reported lost`);
      next = (to ?? 0) + 1;
    }
    assert.equal(next, 161);
    assert.deepEqual(answer.gaps, [], "no unexplained hole between stored chunks");
  });

  it("gives the master a defined schema before the chunks that carry it: they decode into readings; a refused schema resolves `refused`", async () => {
    const b = await startNode(5_000);
    await b.defineSchema(RECORD_SCHEMA_FINGERPRINT, JSON.stringify(RECORD_SCHEMA));
    const ts = Date.now();
    const records = Array.from({ length: 40 }, (_, i) => ({
      device: "turbine-1",
      tag: i % 2 ? "rpm" : "energy",
      ts: ts + i,
      value: i % 2 ? i / 4 : 2n ** 64n - BigInt(i + 1),
      quality: "good",
    }));
    await b.append("bulk", records.map(encodeRecord), { schema: RECORD_SCHEMA_FINGERPRINT });
    await b.sealAll();
    await until(() => b.metrics().backlogRecords === 0, 30_000, "the backlog never drained");
    const readings = await collectPages(h.master.store.readingPages({ from: ts, to: ts + 40 }));
    assert.deepEqual(
      readings.map((r) => [r.tag, r.ts, r.value]),
      [...records]
        .sort((x, y) => x.tag.localeCompare(y.tag) || x.ts - y.ts)
        .map((r) => [r.tag, r.ts, r.value]),
    );
    assert.equal(sink?.stats.schemasAcked, 1, "sent once");
    const refused = await sink?.sendSchema(
      { fingerprint: Buffer.alloc(32), schema: JSON.stringify(RECORD_SCHEMA) },
      new AbortController().signal,
    );
    assert.match(
      refused?.refused ?? "",
      /its fingerprint is [0-9a-f]{64}, not 0{64} \(E_MASTER_SCHEMA\)/,
    );
  });
});
