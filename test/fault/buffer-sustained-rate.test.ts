import { strict as assert } from "node:assert";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskBuffer, Forwarder, resolveConfig } from "../../buffer/index.js";
import { type LocalSink, startLocalSink } from "../helpers/local-sink/start.js";
import { readSinkStore } from "../helpers/local-sink/store.js";
import { TcpSink } from "../helpers/local-sink/tcp-sink.js";
import { until } from "../helpers/until.js";

/**
 * Fault (8): 10,000 tiny appends per second (one record each, four streams) for a
 * minute, sealed every 50 ms and forwarded to a local sink. Sampled every 50 ms, the
 * chunk files on disk never pass `maxChunks` plus one open chunk per stream, and the
 * process's open descriptors never pass the bound README.md states: two checkpoint
 * slots, one open chunk and up to two directory syncs per stream, one read per chunk in
 * flight and the sink connection. Afterwards every record is at the sink exactly once.
 */
const RATE = 10_000;
const DURATION_MS = 60_000;
const STREAMS = ["alarms", "bulk", "status", "energy"];

function openDescriptors(): number {
  return readdirSync("/proc/self/fd").length;
}

describe("fault: 10,000 tiny appends per second for a minute", function () {
  this.timeout(DURATION_MS + 60_000);
  let work: string;
  let sink: LocalSink | undefined;

  before(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-rate-"));
  });
  after(async () => {
    await sink?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("keeps chunk files and open descriptors within their bounds and delivers every record once", async () => {
    const dir = join(work, "buf");
    const config = resolveConfig({
      dir,
      maxChunks: 24,
      defaults: { fsync: "batch", batchMs: 10, sealBytes: 256 * 1024, sealAgeMs: 50 },
      forward: { window: 4, ackTimeoutMs: 5000, backoffBaseMs: 10, backoffCapMs: 200 },
    });
    sink = await startLocalSink(mkdtempSync(join(work, "sink-")));
    const baseline = openDescriptors();
    const buffer = await DiskBuffer.open(config);
    const forwarder = new Forwarder(buffer, new TcpSink("127.0.0.1", sink.port), config.forward);
    forwarder.start();

    const fileBound = config.maxChunks + STREAMS.length;
    // Checkpoint slots; per stream its open chunk and up to two directory syncs (a new
    // chunk, a deleted one); one read per chunk in flight; the sink connection.
    const fdBound = baseline + 2 + 3 * STREAMS.length + config.forward.window + 1;
    let peakFiles = 0;
    let peakFds = 0;
    const sample = () => {
      let files = 0;
      for (const s of readdirSync(join(dir, "streams")))
        files += readdirSync(join(dir, "streams", s)).length;
      peakFiles = Math.max(peakFiles, files);
      peakFds = Math.max(peakFds, openDescriptors());
    };
    const sampler = setInterval(sample, 50);

    let issued = 0;
    let durable = 0;
    let failed: unknown;
    const started = Date.now();
    try {
      while (Date.now() - started < DURATION_MS && failed === undefined) {
        const due = Math.floor(((Date.now() - started) * RATE) / 1000);
        for (; issued < due; issued++) {
          const stream = STREAMS[issued % STREAMS.length] as string;
          buffer.append(stream, [Buffer.from(`{"n":${issued}}`)]).then(
            () => {
              durable++;
            },
            (err: unknown) => {
              failed ??= err;
            },
          );
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      await until(
        () => durable === issued || failed !== undefined,
        30_000,
        "appends never settled",
      );
      assert.equal(failed, undefined);
      const elapsed = (Date.now() - started) / 1000;
      await buffer.sealAll();
      await until(() => buffer.metrics().backlogRecords === 0, 30_000, "backlog never drained");
      sample();
      console.log(
        `      ${durable} appends in ${elapsed.toFixed(1)} s (${Math.round(durable / elapsed)}/s); peak ${peakFiles} chunk files (bound ${fileBound}), ${peakFds - baseline} descriptors above baseline (bound ${fdBound - baseline})`,
      );
    } finally {
      clearInterval(sampler);
      await forwarder.stop();
      await buffer.close();
    }
    assert.ok(issued >= (RATE * DURATION_MS) / 1000 - RATE / 100, `only ${issued} appends issued`);
    assert.ok(peakFiles <= fileBound, `${peakFiles} chunk files on disk, bound ${fileBound}`);
    assert.ok(
      peakFds <= fdBound,
      `${peakFds - baseline} descriptors above baseline, bound ${fdBound - baseline}`,
    );

    const seen = new Set<string>();
    for (const chunk of readSinkStore(sink.dir).chunks) {
      for (const r of chunk.stored) {
        const key = r.payload.toString();
        assert.ok(!seen.has(key), `${key} stored twice`);
        seen.add(key);
      }
    }
    assert.equal(seen.size, issued);
  });
});
