import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Collector, type TelemetryRecord } from "../../../collector/index.js";
import { collectorConfig, MemoryOutput, quietLogger, waitFor } from "../fixtures.js";
import { startOpcuaCasesPeer } from "../peers/opcua-peer.js";
import type { Peer } from "../peers/peer-process.js";

type Expected = Pick<TelemetryRecord, "value" | "quality"> & { status?: string };

/** What each variable of the cases server must become: the README's quality table. */
const EXPECTED: Record<string, Expected> = {
  Good: { value: 1.25, quality: "good" },
  Clamped: { value: 12.5, quality: "good", status: "GoodClamped" },
  Overflow: { value: 7, quality: "good", status: "Good#Overflow" },
  ClampedOverflow: { value: -3, quality: "good", status: "GoodClamped#Overflow" },
  Uncertain: { value: 3.5, quality: "uncertain", status: "UncertainLastUsableValue" },
  UncertainSensor: { value: 0.5, quality: "uncertain", status: "UncertainSensorNotAccurate" },
  Bad: { value: null, quality: "BadSensorFailure", status: "BadSensorFailure" },
  NaN: { value: null, quality: "bad_type", status: "NaN" },
  PosInf: { value: null, quality: "bad_type", status: "Infinity" },
  NegInf: { value: null, quality: "bad_type", status: "-Infinity" },
  Empty: { value: null, quality: "no_value" },
  DoubleArray: { value: [1.5, -2.25, 1e300], quality: "good" },
  FloatArray: { value: [0.5, 3.25], quality: "good" },
  Int16Array: { value: [-32768, 32767], quality: "good" },
  Int64Array: { value: [-(2n ** 63n), 2n ** 53n + 1n, 2n ** 63n - 1n], quality: "good" },
  UInt64Array: { value: [0n, 2n ** 63n, 2n ** 64n - 1n], quality: "good" },
  BooleanArray: { value: [true, false, true], quality: "good" },
  UncertainArray: { value: [1, 2], quality: "uncertain", status: "UncertainInitialValue" },
  EmptyArray: { value: [], quality: "good" },
  LongArray: { value: null, quality: "too_large", status: "2000 elements > 1024" },
  NaNArray: { value: null, quality: "bad_type", status: "NaN at [1]" },
  StringArray: { value: null, quality: "bad_type", status: "String[]" },
  Matrix: { value: null, quality: "bad_type", status: "Double[,]" },
  Structure: { value: null, quality: "bad_type", status: "ExtensionObject" },
  Bytes: { value: null, quality: "bad_type", status: "ByteString" },
};

describe("collector OPC-UA statuses, arrays and values a record cannot hold, from a node-opcua server", function () {
  this.timeout(90_000);
  let dir: string;
  let server: Peer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "outpost-opcua-cases-"));
    server = await startOpcuaCasesPeer({ dataDir: join(dir, "server"), bigBytes: 16 });
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("maps each status class and value kind as the quality table says", async () => {
    const output = new MemoryOutput();
    const names = Object.keys(EXPECTED);
    const config = collectorConfig({
      dataDir: join(dir, "client"),
      devices: [
        {
          name: "cases",
          interval: "100ms",
          opcua: { endpoint: server.hello.endpoint },
          tags: [...names, "Counter"].map((n) => ({ name: n, node: `ns=1;s=${n}` })),
        },
      ],
    });
    const collector = new Collector(config, { output, logger: quietLogger });
    await collector.start();
    try {
      await waitFor(
        () => names.every((n) => output.of("cases", n).length > 0),
        30_000,
        "a record of every case",
      );
      await waitFor(() => output.of("cases", "Counter").length >= 3, 10_000, "Counter flowing");
    } finally {
      await collector.stop();
    }
    for (const [name, want] of Object.entries(EXPECTED)) {
      const [r] = output.of("cases", name);
      assert.ok(r);
      const got: Expected = { value: r.value, quality: r.quality };
      if (r.status !== undefined) got.status = r.status;
      assert.deepEqual(got, want, name);
    }
    const [stats] = collector.stats();
    const unrecordable = output.records.filter((r) =>
      ["bad_type", "too_large"].includes(r.quality),
    ).length;
    assert.equal(stats?.unrecordable, unrecordable);
    assert.ok(unrecordable >= 8, `${unrecordable} unrecordable`);
  });

  it("records arrays up to a tag's own maxArrayLength", async () => {
    const output = new MemoryOutput();
    const config = collectorConfig({
      dataDir: join(dir, "client"),
      devices: [
        {
          name: "arrays",
          interval: "100ms",
          opcua: { endpoint: server.hello.endpoint },
          tags: [
            { name: "long", node: "ns=1;s=LongArray", maxArrayLength: 2000 },
            { name: "short", node: "ns=1;s=DoubleArray", maxArrayLength: 2 },
          ],
        },
      ],
    });
    const collector = new Collector(config, { output, logger: quietLogger });
    await collector.start();
    try {
      await waitFor(
        () => output.of("arrays", "long").length > 0 && output.of("arrays", "short").length > 0,
        30_000,
        "both arrays",
      );
    } finally {
      await collector.stop();
    }
    const [long] = output.of("arrays", "long");
    assert.equal(long?.quality, "good");
    assert.deepEqual(
      long?.value,
      Array.from({ length: 2000 }, (_, i) => i),
    );
    const [short] = output.of("arrays", "short");
    assert.deepEqual(
      { quality: short?.quality, status: short?.status, value: short?.value },
      { quality: "too_large", status: "3 elements > 2", value: null },
    );
  });
});
