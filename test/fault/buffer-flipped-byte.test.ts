import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BufferConfig,
  DiskBuffer,
  Forwarder,
  parseChunk,
  resolveConfig,
} from "../../buffer/index.js";
import { bundleCli } from "../helpers/bundled-cli.js";
import { type LocalSink, startLocalSink } from "../helpers/local-sink/start.js";
import { readSinkStore } from "../helpers/local-sink/store.js";
import { TcpSink } from "../helpers/local-sink/tcp-sink.js";
import { until } from "../helpers/until.js";

/**
 * Fault (5): one flipped byte in a sealed chunk. The damage is found (when the chunk is
 * read for sending, or at start-up when it hits the header or trailer), the original goes
 * to `corrupt/` with a report naming the lost sequence range, every intact record of the
 * chunk and of every other chunk is delivered in order, and exactly the damaged records
 * are counted lost and reported upstream as a loss event.
 */
const RECORDS = 600;

describe("fault: a flipped byte in a sealed chunk", function () {
  this.timeout(60_000);
  let work: string;
  let cli: { path: string; remove(): void } | undefined;
  const sinks: LocalSink[] = [];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "outpost-flip-"));
    cli = await bundleCli();
  });
  after(async () => {
    for (const s of sinks) await s.stop();
    cli?.remove();
    rmSync(work, { recursive: true, force: true });
  });

  async function fill(
    name: string,
  ): Promise<{ config: BufferConfig; sent: string[]; chunks: string[] }> {
    const config = resolveConfig({
      dir: join(work, name),
      // Seals sync whatever the policy; `never` keeps the fill fast.
      defaults: { sealBytes: 4096, sealAgeMs: 60_000, fsync: "never" },
      forward: { window: 3, ackTimeoutMs: 2000, backoffBaseMs: 10, backoffCapMs: 100 },
    });
    const buffer = await DiskBuffer.open(config);
    const sent: string[] = [];
    for (let n = 0; n < RECORDS; n++) {
      const record = JSON.stringify({ n, v: Math.cos(n) });
      sent.push(record);
      await buffer.append("bulk", [Buffer.from(record)]);
    }
    await buffer.close();
    const streamDir = join(config.dir, "streams", "bulk");
    const chunks = readdirSync(streamDir)
      .filter((f) => f.endsWith(".chunk"))
      .sort()
      .map((f) => join(streamDir, f));
    assert.ok(chunks.length >= 4, `only ${chunks.length} chunks`);
    return { config, sent, chunks };
  }

  /** Flips one byte at `offset` of `path`; returns the sequence numbers stored there. */
  function flip(path: string, offset: (buf: Buffer) => number): number[] {
    const buf = readFileSync(path);
    const seqs = parseChunk(buf, 1 << 20).scan.records.map((f) => f.seq);
    const at = offset(buf);
    buf[at] = (buf[at] as number) ^ 0x40;
    writeFileSync(path, buf);
    return seqs;
  }

  async function deliver(config: BufferConfig) {
    const sink = await startLocalSink(mkdtempSync(join(work, "sink-")));
    sinks.push(sink);
    const buffer = await DiskBuffer.open(config);
    const forwarder = new Forwarder(buffer, new TcpSink("127.0.0.1", sink.port), config.forward);
    forwarder.start();
    await until(
      () => buffer.metrics().backlogRecords === 0 && buffer.metrics().pendingLossEvents === 0,
      20_000,
      "backlog never drained",
    );
    await forwarder.stop();
    const metrics = buffer.metrics();
    await buffer.close();
    return { metrics, store: readSinkStore(sink.dir) };
  }

  function quarantined(config: BufferConfig) {
    const files = readdirSync(join(config.dir, "corrupt")).sort();
    const report = files.find((f) => f.endsWith(".json"));
    assert.ok(
      report && files.some((f) => f.endsWith(".chunk")),
      `corrupt/ holds ${files.join(", ")}`,
    );
    return JSON.parse(readFileSync(join(config.dir, "corrupt", report), "utf8")) as {
      chunkId: number;
      lost: { from: number; to: number }[];
      intactRecords: number;
    };
  }

  it("in a record's payload: loses only that record, delivers the rest in order and counts the loss", async () => {
    const { config, sent, chunks } = await fill("payload");
    const target = chunks[1] as string;
    const buf = readFileSync(target);
    const frames = parseChunk(buf, 1 << 20).scan.records;
    const victim = frames[3];
    assert.ok(victim);
    flip(target, () => victim.payloadStart + 2);

    const { metrics, store } = await deliver(config);
    const records = store.chunks.sort((a, b) => a.chunkId - b.chunkId).flatMap((c) => c.stored);
    const expected = sent
      .map((payload, i) => ({ seq: i + 1, payload }))
      .filter((r) => r.seq !== victim.seq);
    assert.deepEqual(
      records.map((r) => ({ seq: r.seq, payload: r.payload.toString() })),
      expected,
    );
    assert.equal(metrics.corruptChunks, 1);
    assert.equal(metrics.lostRecords, 1);
    assert.deepEqual(
      store.losses.map((l) => [l.reason, l.fromSeq, l.toSeq, l.records]),
      [["corrupt", victim.seq, victim.seq, 1]],
    );
    const report = quarantined(config);
    assert.deepEqual(report.lost, [{ from: victim.seq, to: victim.seq }]);
    assert.equal(report.intactRecords, frames.length - 1);

    const stat = spawnSync(
      process.execPath,
      [cli?.path ?? "", "buffer", "stat", config.dir, "--json"],
      {
        encoding: "utf8",
      },
    );
    const doc = JSON.parse(stat.stdout) as {
      corruptChunks: number;
      lostRecords: number;
      quarantinedFiles: number;
    };
    assert.equal(doc.corruptChunks, 1);
    assert.equal(doc.lostRecords, 1);
    assert.equal(doc.quarantinedFiles, 2);
  });

  it("in a chunk header: found at start-up without blocking it, every record still delivered", async () => {
    const { config, sent, chunks } = await fill("header");
    flip(chunks[2] as string, () => 12);

    const { metrics, store } = await deliver(config);
    const records = store.chunks.sort((a, b) => a.chunkId - b.chunkId).flatMap((c) => c.stored);
    assert.deepEqual(
      records.map((r) => r.payload.toString()),
      sent,
    );
    assert.equal(metrics.corruptChunks, 1);
    assert.equal(metrics.lostRecords, 0);
    assert.deepEqual(quarantined(config).lost, []);
  });

  it("in a seal trailer: the chunk is quarantined with every record intact and nothing counted lost", async () => {
    const { config, sent, chunks } = await fill("trailer");
    const target = chunks[0] as string;
    flip(target, (buf) => buf.length - 6);

    const { metrics, store } = await deliver(config);
    const records = store.chunks.sort((a, b) => a.chunkId - b.chunkId).flatMap((c) => c.stored);
    assert.deepEqual(
      records.map((r) => r.payload.toString()),
      sent,
    );
    assert.equal(metrics.corruptChunks, 1);
    assert.equal(metrics.lostRecords, 0);
    assert.deepEqual(store.losses, []);
  });
});
