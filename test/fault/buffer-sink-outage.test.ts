import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskBuffer, Forwarder, resolveConfig } from "../../buffer/index.js";
import { type LocalSink, startLocalSink } from "../helpers/local-sink/start.js";
import { readSinkStore } from "../helpers/local-sink/store.js";
import { TcpSink } from "../helpers/local-sink/tcp-sink.js";
import { until } from "../helpers/until.js";

/**
 * Fault (2): the sink is down for a long stretch while records keep coming (connection
 * refused, over and over), then comes back: everything drains, each stream in order,
 * nothing lost, nothing stored twice.
 */
describe("fault: sink down for a long period, then back", function () {
  this.timeout(60_000);
  let work: string;
  let sink: LocalSink | undefined;

  before(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-outage-"));
  });
  after(async () => {
    await sink?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("keeps retrying while the sink is down and drains everything in order once it is back", async () => {
    const sinkDir = mkdtempSync(join(work, "sink-"));
    // Learn a free port, then take the sink down: the outage starts before the first send.
    sink = await startLocalSink(sinkDir);
    const port = sink.port;
    await sink.stop();
    sink = undefined;

    const config = resolveConfig({
      dir: join(work, "buf"),
      defaults: { sealBytes: 8 * 1024, sealAgeMs: 20 },
      streams: { alarms: { priority: 10, fsync: "always" } },
      forward: { window: 4, ackTimeoutMs: 2000, backoffBaseMs: 20, backoffCapMs: 300 },
    });
    const buffer = await DiskBuffer.open(config);
    const forwarder = new Forwarder(buffer, new TcpSink("127.0.0.1", port), config.forward);
    forwarder.start();
    const sent: Record<string, string[]> = { bulk: [], alarms: [] };
    const outageEnds = Date.now() + 4000;
    let n = 0;
    while (Date.now() < outageEnds) {
      const batch: Promise<unknown>[] = [];
      for (let i = 0; i < 50; i++, n++) {
        const stream = n % 10 === 0 ? "alarms" : "bulk";
        const record = JSON.stringify({ stream, n });
        (sent[stream] as string[]).push(record);
        batch.push(buffer.append(stream, [Buffer.from(record)]));
      }
      await Promise.all(batch);
      await new Promise((r) => setTimeout(r, 5));
    }
    const during = buffer.metrics();
    assert.ok(during.retries >= 10, `only ${during.retries} retries during the outage`);
    assert.equal(during.deliveredRecords, 0);
    assert.ok(during.backlogRecords > 0);

    sink = await startLocalSink(sinkDir, port);
    await buffer.sealAll();
    await until(() => buffer.metrics().backlogRecords === 0, 30_000, "backlog never drained");
    await forwarder.stop();
    await buffer.close();

    const store = readSinkStore(sinkDir);
    const ids = store.chunks.map((c) => c.chunkId);
    assert.equal(new Set(ids).size, ids.length, "a chunk was stored twice");
    for (const stream of ["bulk", "alarms"]) {
      const chunks = store.chunks.filter((c) => c.stream === stream);
      const order = chunks.map((c) => c.chunkId);
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
        `${stream} not in chunk order`,
      );
      const records = chunks.flatMap((c) => c.stored);
      assert.deepEqual(
        records.map((r) => r.payload.toString()),
        sent[stream],
        `${stream}: records differ from what was appended`,
      );
      for (const [i, r] of records.entries()) assert.equal(r.seq, i + 1);
    }
  });
});
