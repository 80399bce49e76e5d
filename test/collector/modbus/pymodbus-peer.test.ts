import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import {
  Collector,
  type ModbusInput,
  type ModbusTag,
  readOnce,
  type TelemetryRecord,
} from "../../../collector/index.js";
import { repoRoot } from "../../helpers/run-outpost.js";
import { collectorConfig, MemoryOutput, quietLogger, sleep } from "../fixtures.js";
import { type Peer, startPeer } from "../peers/peer-process.js";

const PYTHON = "/usr/bin/python3"; // Debian's, which has python3-pymodbus; not a pyenv one on PATH
const SERVER = join(repoRoot, "test", "collector", "peers", "pymodbus_server.py");

type Expected = Omit<ModbusTag, "order"> & { order?: ModbusTag["order"]; value: unknown };

/** Every type and every word order, with values that catch a swapped byte or word. */
function registerMap(): Expected[] {
  const tags: Expected[] = [];
  let address = 0;
  const add = (t: Omit<Expected, "address" | "name">, width: number) => {
    tags.push({ ...t, name: `${t.register}_${t.type}_${t.order ?? "ABCD"}_${address}`, address });
    address += width;
  };
  const orders = ["ABCD", "CDAB", "BADC", "DCBA"] as const;
  for (const order of orders) {
    add({ register: "holding", type: "int32", order, value: -123456789 }, 2);
    add({ register: "holding", type: "uint32", order, value: 3000000001 }, 2);
    add({ register: "holding", type: "float32", order, value: Math.fround(-1234.5625) }, 2);
    add({ register: "holding", type: "int64", order, value: -(2n ** 63n) + 12345n }, 4);
    add({ register: "holding", type: "uint64", order, value: 2n ** 64n - 2n }, 4);
    add({ register: "holding", type: "float64", order, value: 6.02214076e23 }, 4);
  }
  add({ register: "holding", type: "int16", value: -2 }, 1);
  add({ register: "holding", type: "uint16", value: 65000 }, 1);
  add({ register: "holding", type: "uint16", order: "BADC", value: 0x1234 }, 1);
  add({ register: "holding", type: "int64", value: 2n ** 63n - 1n }, 4);
  add({ register: "holding", type: "string", length: 5, value: "WT-07X" }, 5);
  add({ register: "input", type: "float32", order: "CDAB", value: Math.fround(12.75) }, 2);
  add({ register: "input", type: "uint32", value: 42 }, 2);
  tags.push({ name: "scaled", register: "input", address: 10, type: "int16", value: 1234 });
  tags.push({ name: "running", register: "coil", address: 3, type: "bool", value: true });
  tags.push({ name: "stopped", register: "coil", address: 4, type: "bool", value: false });
  tags.push({ name: "door", register: "discrete", address: 7, type: "bool", value: true });
  return tags;
}

function wire(tags: Expected[]) {
  return tags.map((t) => ({
    register: t.register,
    address: t.address,
    type: t.type,
    order: t.order ?? "ABCD",
    length: t.length,
    value: typeof t.value === "bigint" ? t.value.toString() : t.value,
  }));
}

function configTags(tags: Expected[]) {
  return tags.map(({ value: _v, ...t }) =>
    t.name === "scaled" ? { ...t, scale: 0.1, offset: -10, unit: "degC" } : t,
  );
}

function expectedValue(t: Expected): unknown {
  return t.name === "scaled" ? 1234 * 0.1 - 10 : t.value;
}

function assertAll(records: TelemetryRecord[], tags: Expected[]) {
  assert.equal(records.length, tags.length);
  for (const t of tags) {
    const r = records.find((x) => x.tag === t.name);
    assert.ok(r, `no record for ${t.name}`);
    assert.equal(r.quality, "good", `${t.name}: ${r.quality}`);
    assert.deepEqual(r.value, expectedValue(t), `${t.name}`);
  }
}

describe("collector Modbus against Debian's pymodbus server", function () {
  this.timeout(60_000);
  const tags = registerMap();
  let tcp: Peer;
  let endpoint: string;

  before(async () => {
    tcp = await startPeer(PYTHON, [
      SERVER,
      JSON.stringify({ mode: "tcp", units: [1, 2], tags: wire(tags) }),
    ]);
    endpoint = `127.0.0.1:${tcp.hello.port}`;
  });
  after(async () => {
    await tcp?.stop();
  });

  it("reads every type in every word order exactly, 64-bit integers as exact bigints", async () => {
    const config = collectorConfig({
      dataDir: "/nonexistent",
      devices: [{ name: "plc", modbus: { tcp: endpoint, unit: 1 }, tags: configTags(tags) }],
    });
    assertAll(await readOnce(config, quietLogger, 5000), tags);
  });

  it("gives the same values with coalescing off, in many more requests", async () => {
    const on = collectorConfig({
      dataDir: "/x",
      devices: [{ name: "plc", modbus: { tcp: endpoint, unit: 2 }, tags: configTags(tags) }],
    });
    const off = collectorConfig({
      dataDir: "/x",
      devices: [
        {
          name: "plc",
          modbus: { tcp: endpoint, unit: 2, coalesce: false },
          tags: configTags(tags),
        },
      ],
    });
    const a = new Collector(on, { output: new MemoryOutput(), logger: quietLogger });
    const b = new Collector(off, { output: new MemoryOutput(), logger: quietLogger });
    const planned = (c: Collector) => (c.inputs[0] as ModbusInput).requests.length;
    assert.ok(planned(a) <= 5, `coalesced into ${planned(a)} requests`);
    assert.equal(planned(b), tags.length);
    assertAll(await readOnce(off, quietLogger, 5000), tags);
  });

  it("mbpoll, another independent client, reads the CDAB float the collector reads", async () => {
    const t = tags.find(
      (x) => x.type === "float32" && x.order === "CDAB" && x.register === "holding",
    );
    assert.ok(t);
    // mbpoll addresses from 1 and reads floats as CDAB (word-swapped) by default.
    const r = spawnSync(
      "mbpoll",
      [
        "-m",
        "tcp",
        "-p",
        String(tcp.hello.port),
        "-a",
        "1",
        "-t",
        "4:float",
        "-r",
        String(t.address + 1),
        "-c",
        "1",
        "-1",
        "127.0.0.1",
      ],
      { encoding: "utf8", timeout: 10_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const m = /\[\d+\]:\s+(-?[\d.]+)/.exec(r.stdout);
    assert.ok(m, r.stdout);
    const config = collectorConfig({
      dataDir: "/x",
      devices: [{ name: "plc", modbus: { tcp: endpoint }, tags: configTags([t]) }],
    });
    const [record] = await readOnce(config, quietLogger, 5000);
    // mbpoll prints floats with a few decimals.
    assert.ok(Math.abs(Number(m[1]) - Number(record?.value)) < 0.01, `${m[1]} vs ${record?.value}`);
    assert.equal(record?.value, t.value);
  });

  it("makes NaN and ±Infinity floats bad_type with no value, as over OPC-UA, the other tags good", async () => {
    const floats = [
      { name: "nan32", register: "holding", address: 0, type: "float32", value: "nan" },
      { name: "inf64", register: "holding", address: 2, type: "float64", value: "inf" },
      { name: "ninf32", register: "input", address: 0, type: "float32", value: "-inf" },
      { name: "ok", register: "input", address: 2, type: "float32", value: 2.5 },
    ] as const;
    const peer = await startPeer(PYTHON, [
      SERVER,
      JSON.stringify({
        mode: "tcp",
        units: [1],
        tags: floats.map((t) => ({ ...t, order: "ABCD" })),
      }),
    ]);
    try {
      const config = collectorConfig({
        dataDir: "/x",
        devices: [
          {
            name: "plc",
            modbus: { tcp: `127.0.0.1:${peer.hello.port}` },
            tags: floats.map(({ value: _v, ...t }) => t),
          },
        ],
      });
      const records = await readOnce(config, quietLogger, 5000);
      const seen = Object.fromEntries(
        records.map((r) => [r.tag, { value: r.value, quality: r.quality, status: r.status }]),
      );
      assert.deepEqual(seen, {
        nan32: { value: null, quality: "bad_type", status: "NaN" },
        inf64: { value: null, quality: "bad_type", status: "Infinity" },
        ninf32: { value: null, quality: "bad_type", status: "-Infinity" },
        ok: { value: 2.5, quality: "good", status: undefined },
      });
    } finally {
      await peer.stop();
    }
  });

  it("backs off a silent unit on a shared connection while the other units keep their schedule", async () => {
    const few = configTags(tags.slice(0, 3));
    const config = collectorConfig({
      dataDir: "/x",
      devices: [
        {
          name: "u1",
          interval: "100ms",
          modbus: { tcp: endpoint, unit: 1, timeout: "150ms", retries: 0 },
          tags: few,
        },
        {
          name: "u9",
          interval: "100ms",
          modbus: { tcp: endpoint, unit: 9, timeout: "150ms", retries: 0 },
          tags: few,
        },
        {
          name: "u2",
          interval: "100ms",
          modbus: { tcp: endpoint, unit: 2, timeout: "150ms", retries: 0 },
          tags: few,
        },
      ],
    });
    const output = new MemoryOutput();
    const collector = new Collector(config, {
      output,
      logger: quietLogger,
      backoff: { initialMs: 600, maxMs: 600 },
    });
    await collector.start();
    await sleep(1500);
    await collector.stop();
    const [u1, u9, u2] = collector.stats();
    assert.ok(u1 && u9 && u2);
    for (const s of [u1, u2]) {
      assert.ok(s.gathers >= 10, `${s.device} gathered ${s.gathers} times`);
      assert.equal(s.badRecords, 0, `${s.device}: ${s.lastError}`);
    }
    assert.ok(u9.gathers <= 3, `silent unit gathered ${u9.gathers} times`);
    assert.ok(u9.failures >= 1);
    assert.ok(output.of("u9").every((r) => r.quality === "timeout" && r.value === null));
  });
});
