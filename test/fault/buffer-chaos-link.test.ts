import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskBuffer, Forwarder, resolveConfig } from "../../buffer/index.js";
import { type FaultProxy, startFaultProxy } from "../../common/index.js";
import { type LocalSink, startLocalSink } from "../helpers/local-sink/start.js";
import { readSinkStore } from "../helpers/local-sink/store.js";
import { TcpSink } from "../helpers/local-sink/tcp-sink.js";
import { until } from "../helpers/until.js";

/**
 * Fault (3): the link to the sink goes through a chaos proxy on loopback that cuts
 * connections and stalls them at random (past the ack timeout), and the sink process is
 * killed with SIGKILL once mid-stream. Every record arrives, and after the sink's dedupe
 * by chunk id no chunk and no record is stored twice.
 */
describe("fault: a link that drops and stalls at random", function () {
  this.timeout(90_000);
  let work: string;
  let sink: LocalSink | undefined;
  let proxy: FaultProxy | undefined;

  before(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-chaos-"));
  });
  after(async () => {
    await proxy?.close();
    await sink?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("delivers every record exactly once after the sink's dedupe", async () => {
    const sinkDir = mkdtempSync(join(work, "sink-"));
    sink = await startLocalSink(sinkDir);
    const seed = Math.floor(Math.random() * 2 ** 31);
    proxy = await startFaultProxy(
      { host: "127.0.0.1", port: sink.port },
      { chaos: { seed, meanFaultMs: 150, maxStallMs: 600, refuseShare: 0.2 } },
    );
    const config = resolveConfig({
      dir: join(work, "buf"),
      defaults: { sealBytes: 16 * 1024, sealAgeMs: 20 },
      streams: { alarms: { priority: 5 } },
      forward: {
        window: 6,
        ackTimeoutMs: 300,
        backoffBaseMs: 10,
        backoffCapMs: 200,
        compression: "deflate",
      },
    });
    const buffer = await DiskBuffer.open(config);
    const forwarder = new Forwarder(buffer, new TcpSink("127.0.0.1", proxy.port), config.forward);
    forwarder.start();

    const sent: Record<string, string[]> = { bulk: [], alarms: [] };
    const streamFor = (n: number) => (n % 7 === 0 ? "alarms" : "bulk");
    for (let round = 0; round < 60; round++) {
      const batch: Promise<unknown>[] = [];
      for (let i = 0; i < 500; i++) {
        const n = round * 500 + i;
        const record = JSON.stringify({ n, v: Math.sin(n) });
        (sent[streamFor(n)] as string[]).push(record);
        batch.push(buffer.append(streamFor(n), [Buffer.from(record)]));
      }
      await Promise.all(batch);
      if (round === 30) {
        // The receiving end itself crashes; whatever it acked is on its disk.
        const port = sink.port;
        await sink.kill();
        sink = await startLocalSink(sinkDir, port);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await buffer.sealAll();
    await until(
      () => buffer.metrics().backlogRecords === 0,
      60_000,
      `backlog never drained (seed ${seed})`,
    );
    const { retries } = buffer.metrics();
    await forwarder.stop();
    await buffer.close();
    await sink.stop();
    sink = undefined;

    assert.ok(
      proxy.stats.cuts + proxy.stats.stalls + proxy.stats.refused > 5,
      "the link never misbehaved",
    );
    assert.ok(retries > 0);
    const store = readSinkStore(sinkDir);
    const ids = store.chunks.map((c) => c.chunkId);
    assert.equal(new Set(ids).size, ids.length, "the sink stored a chunk twice");
    for (const stream of ["bulk", "alarms"]) {
      const records = store.chunks
        .filter((c) => c.stream === stream)
        .sort((a, b) => a.chunkId - b.chunkId)
        .flatMap((c) => c.stored);
      assert.equal(records.length, (sent[stream] as string[]).length, `${stream} (seed ${seed})`);
      records.forEach((r, i) => {
        assert.equal(r.seq, i + 1);
        assert.equal(r.payload.toString(), (sent[stream] as string[])[i]);
      });
    }
    console.log(
      `      link: ${proxy.stats.connections} connections, ${proxy.stats.cuts} cut, ${proxy.stats.stalls} stalled, ${proxy.stats.refused} refused; ${retries} retries`,
    );
  });
});
