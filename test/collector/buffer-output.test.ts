import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readUndelivered } from "../../buffer/index.js";
import {
  Collector,
  decodeRecord,
  encodeRecord,
  openBufferOutput,
  type TelemetryRecord,
} from "../../collector/index.js";
import { collectorConfig, quietLogger, sleep } from "./fixtures.js";
import { startOpcuaCasesPeer } from "./peers/opcua-peer.js";

async function undelivered(dir: string): Promise<TelemetryRecord[]> {
  const out: TelemetryRecord[] = [];
  for await (const r of readUndelivered(dir, { stream: "telemetry" })) {
    out.push(decodeRecord(r.payload));
  }
  return out;
}

describe("collector buffer output", function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-buffer-output-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("replaces a record above maxRecordBytes by a too_large record of its tag and stores the rest", async () => {
    const output = await openBufferOutput(join(dir, "buffer"), "telemetry", quietLogger);
    const ts = 1_795_000_000_000;
    const big: TelemetryRecord = {
      device: "d",
      tag: "blob",
      ts,
      value: "x".repeat(1 << 20),
      quality: "good",
      unit: "chars",
      serverTs: ts + 1,
    };
    const small: TelemetryRecord = { device: "d", tag: "power", ts, value: 1.5, quality: "good" };
    try {
      assert.deepEqual(await output.write([small, big, small]), { tooLarge: 1 });
    } finally {
      await output.close();
    }
    const records = await undelivered(join(dir, "buffer"));
    assert.deepEqual(records, [
      small,
      {
        device: "d",
        tag: "blob",
        ts,
        value: null,
        quality: "too_large",
        unit: "chars",
        serverTs: ts + 1,
        status: `${encodeRecord(big).length} bytes > ${1 << 20}`,
      },
      small,
    ]);
  });

  it("writes one too_large record per sample of a 1 MiB OPC-UA string, counts it, and the other tag keeps flowing", async () => {
    const server = await startOpcuaCasesPeer({ dataDir: join(dir, "server") });
    const output = await openBufferOutput(join(dir, "buffer"), "telemetry", quietLogger);
    const config = collectorConfig({
      dataDir: join(dir, "client"),
      devices: [
        {
          name: "nacelle",
          interval: "200ms",
          opcua: { endpoint: server.hello.endpoint },
          tags: [
            { name: "big", node: "ns=1;s=Big" },
            { name: "counter", node: "ns=1;s=Counter" },
          ],
        },
      ],
    });
    const collector = new Collector(config, { output, logger: quietLogger });
    try {
      await collector.start();
      const counted = () => collector.stats()[0]?.unrecordable ?? 0;
      const deadline = Date.now() + 30_000;
      while (counted() < 8 && Date.now() < deadline) await sleep(50);
    } finally {
      await collector.stop();
      await output.close();
      await server.stop();
    }
    const [stats] = collector.stats();
    const records = await undelivered(join(dir, "buffer"));
    const big = records.filter((r) => r.tag === "big");
    const counter = records.filter((r) => r.tag === "counter");
    assert.ok(big.length >= 8, `${big.length} records of the big tag`);
    assert.ok(
      big.every(
        (r) =>
          r.quality === "too_large" &&
          r.value === null &&
          /^\d+ bytes > 1048576$/.test(r.status ?? ""),
      ),
      JSON.stringify(big[0]),
    );
    // One record per sample: each carries its own sample's timestamp.
    assert.equal(new Set(big.map((r) => r.ts)).size, big.length);
    assert.equal(stats?.unrecordable, big.length);
    assert.equal(stats?.outputErrors, 0);
    // Both change on every sample: the counter's records and the big tag's pair up.
    assert.ok(Math.abs(counter.length - big.length) <= 2, `${counter.length} vs ${big.length}`);
    assert.ok(counter.every((r) => r.quality === "good" && typeof r.value === "number"));
  });
});
