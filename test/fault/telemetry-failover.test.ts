import { strict as assert } from "node:assert";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { DiskBuffer, Forwarder, resolveConfig } from "../../buffer/index.js";
import { KEY_FILE } from "../../master/data-dir.js";
import { MasterClient, type RunningMaster, startMaster } from "../../master/index.js";
import { generateKeyPair, NodeLink, TelemetrySink } from "../../protocol/index.js";
import { recordsOf } from "../helpers/local-sink/store.js";
import { until } from "../helpers/until.js";
import { startMasterProcess, stopMasterProcess } from "../master/master-process.js";
import { startOnFirst } from "../protocol/link-harness.js";

const logger = pino({ level: process.env.DEBUG_MASTER_LOG ?? "silent" });

/**
 * A node's buffer forwarding to two masters of one fleet (the same key pair; each its own
 * SQLite store here, so what each committed can be told apart). The first master, a real
 * `outpost master start` process, is frozen with SIGSTOP while chunks are on their way to
 * it: no reset reaches the node, the link finds it gone by its heartbeats, moves to the
 * second master and sends the chunks in flight again there. Every chunk is stored once
 * across both stores, every record intact and in order.
 */
describe("fault: telemetry keeps flowing across a master failover, exactly once", function () {
  this.timeout(120_000);
  let work: string;
  let child: ReturnType<typeof startMasterProcess>["child"] | undefined;
  const running: RunningMaster[] = [];
  let buffer: DiskBuffer | undefined;
  let forwarder: Forwarder | undefined;
  let sink: TelemetrySink | undefined;

  before(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-telemetry-failover-"));
  });

  after(async () => {
    await forwarder?.stop();
    await buffer?.close();
    await sink?.close();
    if (child) {
      child.kill("SIGCONT");
      await stopMasterProcess(child, "SIGKILL");
    }
    for (const m of running) await m.close();
    rmSync(work, { recursive: true, force: true });
  });

  async function inProcessMaster(data: string): Promise<RunningMaster> {
    const master = await startMaster({
      data,
      listen: "tcp://127.0.0.1:*",
      http: "127.0.0.1:0",
      logger,
    });
    running.push(master);
    return master;
  }

  function clientOf(url: string, data: string): MasterClient {
    return new MasterClient(url, readFileSync(join(data, "admin.token"), "utf8").trim());
  }

  async function append(b: DiskBuffer, from: number, count: number, sent: Map<string, string[]>) {
    for (let n = from; n < from + count; n++) {
      const stream = n % 3 === 0 ? "alarms" : "bulk";
      const record = JSON.stringify({ stream, n, pad: "x".repeat(40) });
      sent.set(stream, [...(sent.get(stream) ?? []), record]);
      await b.append(stream, [Buffer.from(record)]);
    }
    await b.sealAll();
  }

  it("a frozen master's chunks in flight go to the other master, each chunk stored once across both", async () => {
    const dataA = join(work, "master-a");
    const dataB = join(work, "master-b");
    const proc = startMasterProcess(dataA);
    child = proc.child;
    const a = await proc.started;
    // The fleet's key pair is one file, given to every master.
    mkdirSync(dataB, { mode: 0o700 });
    copyFileSync(join(dataA, KEY_FILE), join(dataB, KEY_FILE));
    const b = await inProcessMaster(dataB);
    assert.equal(b.publicKey, a.publicKey, "one key pair for the fleet");
    const node = generateKeyPair();
    await clientOf(a.url, dataA).addNode("gw-1", node.publicKey);
    await clientOf(b.url, dataB).addNode("gw-1", node.publicKey);

    const config = resolveConfig({
      dir: join(work, "buffer"),
      defaults: { sealBytes: 1024, sealAgeMs: 20 },
      forward: { window: 4, ackTimeoutMs: 30_000, backoffBaseMs: 20, backoffCapMs: 200 },
    });
    buffer = await DiskBuffer.open(config);
    const link = new NodeLink({
      endpoint: [a.endpoint, b.endpoint],
      masterPublicKey: a.publicKey,
      keyPair: node,
      timeoutMs: 30_000,
      // Starts on the first master, the one that freezes; jitter stays random.
      random: startOnFirst(),
    });
    sink = new TelemetrySink(link);
    forwarder = new Forwarder(buffer, sink, config.forward);
    forwarder.start();

    const sent = new Map<string, string[]>();
    await append(buffer, 0, 60, sent);
    const b1 = buffer;
    await until(() => b1.metrics().backlogRecords === 0, 30_000, "the first chunks never drained");
    const onFirst = b1.metrics().deliveredChunks;
    assert.equal(link.endpoint, a.endpoint);

    child.kill("SIGSTOP");
    const frozenAt = Date.now();
    await append(buffer, 60, 120, sent);
    await until(
      () => b1.metrics().backlogRecords === 0,
      30_000,
      "the chunks sent to the frozen master never reached the other",
    );
    const tookMs = Date.now() - frozenAt;
    assert.equal(link.endpoint, b.endpoint);
    assert.equal(link.failovers, 1);
    assert.ok(tookMs < 15_000, `the backlog took ${tookMs} ms to drain on the other master`);
    assert.equal(b1.metrics().retries, 0, "the link resent them: the forwarder never had to");

    // The frozen master never ran again: what it committed is what it had before.
    await stopMasterProcess(child, "SIGKILL");
    child = undefined;
    const reopened = await inProcessMaster(dataA);
    const storedA = await reopened.store.queryChunks({ node: "gw-1", withBody: true, limit: 1e5 });
    const storedB = await b.store.queryChunks({ node: "gw-1", withBody: true, limit: 1e5 });
    const idsA = storedA.map((c) => c.chunkId);
    const idsB = storedB.map((c) => c.chunkId);
    assert.equal(new Set(idsA).size, idsA.length, "a chunk stored twice by the first master");
    assert.equal(new Set(idsB).size, idsB.length, "a chunk stored twice by the second master");
    assert.equal(idsA.length, onFirst, "the first master holds what it acked before the freeze");
    assert.ok(idsB.length > 0, "the second master got the rest");
    assert.equal(
      idsA.length + idsB.length,
      b1.metrics().deliveredChunks,
      "every delivered chunk is in exactly one store",
    );
    assert.deepEqual(
      idsA.filter((id) => idsB.includes(id)),
      [],
      "no chunk in both stores",
    );
    const both = [...storedA, ...storedB];
    for (const [stream, records] of sent) {
      const stored = both
        .filter((c) => c.stream === stream)
        .sort((x, y) => x.firstSeq - y.firstSeq)
        .flatMap((c) =>
          recordsOf({ ...c, schema: Buffer.from(c.schema), body: Buffer.from(c.body) }),
        );
      assert.deepEqual(
        stored.map((r) => r.payload.toString()),
        records,
        `${stream}: the records across both masters differ from what was appended`,
      );
    }
  });
});
