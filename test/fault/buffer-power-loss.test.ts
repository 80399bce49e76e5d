import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskBuffer, Forwarder, readUndelivered, resolveConfig } from "../../buffer/index.js";
import { type LocalSink, startLocalSink } from "../helpers/local-sink/start.js";
import { readSinkStore } from "../helpers/local-sink/store.js";
import { TcpSink } from "../helpers/local-sink/tcp-sink.js";
import { PowerLossFileLayer } from "../helpers/power-loss-layer.js";

/**
 * Fault (7): simulated power loss. The buffer runs on the file layer's test mode while
 * appends, seals, sends, acks, checkpoints and deletions go on; at a random moment the
 * power is cut — everything not covered by an fsync vanishes (file contents and directory
 * entries alike; half the rounds keep a random torn prefix of unsynced appends). Then the
 * buffer is reopened on the real file system. Every record whose append resolved under
 * `fsync: always` or `batch` must be in the buffer or at the sink; nothing is in the
 * buffer twice; sequence numbers still only go up.
 */
const ROUNDS = 40;

describe("fault: power loss at a random moment", function () {
  this.timeout(120_000);
  let work: string;
  let sink: LocalSink | undefined;

  before(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-power-"));
  });
  after(async () => {
    await sink?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it(`loses no record reported durable across ${ROUNDS} power cuts`, async () => {
    const dir = join(work, "buf");
    mkdirSync(dir);
    const sinkDir = mkdtempSync(join(work, "sink-"));
    sink = await startLocalSink(sinkDir);
    const config = resolveConfig({
      dir,
      defaults: { sealBytes: 4096, sealAgeMs: 15, fsync: "batch", batchMs: 3 },
      streams: { alarms: { fsync: "always", priority: 1 }, noise: { fsync: "never" } },
      forward: { window: 3, ackTimeoutMs: 1000, backoffBaseMs: 5, backoffCapMs: 50 },
    });
    const durable = new Map<string, string[]>([
      ["alarms", []],
      ["bulk", []],
    ]);
    let cutsWithPendingWork = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const seed = round * 7919 + Math.floor(Math.random() * 1e6);
      const layer = await PowerLossFileLayer.capture(dir, {
        seed,
        keepTornPrefix: round % 2 === 1,
      });
      const buffer = await DiskBuffer.open(config, { fs: layer });
      const forwarder = new Forwarder(buffer, new TcpSink("127.0.0.1", sink.port), config.forward);
      if (round % 3 !== 0) forwarder.start();
      let pending = 0;
      let stop = false;
      const producers = ["alarms", "bulk", "noise"].map(async (stream) => {
        for (let i = 0; !stop; i++) {
          const records = Array.from({ length: 1 + (i % 5) }, (_, k) =>
            Buffer.from(JSON.stringify({ stream, round, i, k })),
          );
          pending++;
          const appended = buffer.append(stream, records).then(
            () => {
              durable.get(stream)?.push(...records.map((r) => r.toString()));
            },
            () => undefined,
          );
          appended.finally(() => pending--);
          if (i % 4 === 3) await appended;
          else await new Promise((r) => setImmediate(r));
        }
      });
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 120));
      if (pending > 0) cutsWithPendingWork++;
      // Producers stop starting appends; the ones under way are cut with the power.
      stop = true;
      await layer.cutPower();
      await Promise.allSettled(producers);
      // The process is dead: the buffer stops retrying before the forwarder waits on it.
      await buffer.abandon();
      await forwarder.stop();

      // What survived: the buffer as recovery sees it, plus what the sink acknowledged.
      const reopened = await DiskBuffer.open(config);
      await reopened.close({ seal: false });
      const inBuffer = new Map<string, { seq: number; payload: string }[]>();
      for await (const r of readUndelivered(dir)) {
        const list = inBuffer.get(r.stream) ?? [];
        list.push({ seq: r.seq, payload: r.payload.toString() });
        inBuffer.set(r.stream, list);
      }
      const atSink = new Set(
        readSinkStore(sinkDir).chunks.flatMap((c) => c.stored.map((s) => s.payload.toString())),
      );
      for (const [stream, list] of inBuffer) {
        const payloads = list.map((r) => r.payload);
        assert.equal(
          new Set(payloads).size,
          payloads.length,
          `round ${round}: ${stream} holds a record twice`,
        );
        list.forEach((r, i) => {
          if (i > 0)
            assert.ok(
              r.seq > (list[i - 1] as { seq: number }).seq,
              `round ${round}: ${stream} sequence went back`,
            );
        });
      }
      for (const [stream, records] of durable) {
        const here = new Set((inBuffer.get(stream) ?? []).map((r) => r.payload));
        const missing = records.filter((r) => !here.has(r) && !atSink.has(r));
        assert.deepEqual(
          missing,
          [],
          `round ${round} (seed ${seed}): ${stream} lost durable records`,
        );
      }
    }
    assert.ok(cutsWithPendingWork > ROUNDS / 2, "the power was rarely cut mid-work");
    const total = [...durable.values()].reduce((n, l) => n + l.length, 0);
    console.log(`      ${ROUNDS} power cuts; ${total} records reported durable, none lost`);
  });
});
