import { strict as assert } from "node:assert";
import { Collector, type RunningTurbineSim, startTurbineSim } from "../../collector/index.js";
import { collectorConfig, MemoryOutput, quietLogger, sleep } from "../collector/fixtures.js";
import { frame, type RawServer, rawModbusServer, registers } from "./raw-modbus-server.js";

const tag = [{ name: "v", register: "holding", address: 0, type: "uint16" }];

function device(name: string, port: number, extra: object = {}) {
  return {
    name,
    interval: "100ms",
    modbus: { tcp: `127.0.0.1:${port}`, timeout: "150ms", retries: 0, ...extra },
    tags: tag,
  };
}

describe("collector Modbus facing malformed and hostile servers", function () {
  this.timeout(30_000);
  const servers: RawServer[] = [];
  let sim: RunningTurbineSim;
  let output: MemoryOutput;
  let collector: Collector;
  let raw: Record<
    "short" | "wrongTid" | "illegal" | "busy" | "garbage" | "stall" | "late" | "slow",
    RawServer
  >;

  before(async () => {
    sim = await startTurbineSim({ seed: 5, modbus: { host: "127.0.0.1", port: 0 } });
    raw = {
      // Claims 4 data bytes, sends none.
      short: await rawModbusServer((req, s) => s.write(frame(req.tid, req.unit, [req.fc, 4]))),
      // Right length and content, wrong transaction id.
      wrongTid: await rawModbusServer((req, s) =>
        s.write(registers({ ...req, tid: (req.tid + 1000) & 0xffff }, 7)),
      ),
      illegal: await rawModbusServer((req, s) =>
        s.write(frame(req.tid, req.unit, [req.fc | 0x80, 2])),
      ),
      // Busy twice, then an answer: each poll succeeds after two busy retries.
      busy: await rawModbusServer((req, s) =>
        s.write(
          req.seq % 3 < 2 ? frame(req.tid, req.unit, [req.fc | 0x80, 6]) : registers(req, 42),
        ),
      ),
      // Bytes that are not Modbus at all, with an absurd MBAP length that stalls a parser.
      garbage: await rawModbusServer((_req, s) =>
        s.write(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0x01, 0x02, 0x03])),
      ),
      stall: await rawModbusServer(() => {}),
      // The first reply comes 100 ms after the timeout, while the retry is in flight.
      late: await rawModbusServer((req, s) => {
        if (req.seq === 0) setTimeout(() => s.write(registers(req, 111)), 250);
        else setTimeout(() => s.write(registers(req, 222)), 150 - 50);
      }),
      // Answers every request, 250 ms after it: slower than the 100 ms poll interval.
      slow: await rawModbusServer((req, s) => {
        setTimeout(() => s.write(registers(req, 5)), 250);
      }),
    };
    servers.push(...Object.values(raw));
    const config = collectorConfig({
      dataDir: "/x",
      devices: [
        {
          ...device("good", sim.modbus?.port ?? 0),
          tags: [{ name: "wind", register: "holding", address: 0, type: "float32" }],
        },
        device("short", raw.short.port),
        device("wrongTid", raw.wrongTid.port),
        device("illegal", raw.illegal.port),
        device("busy", raw.busy.port, { timeout: "500ms" }),
        device("garbage", raw.garbage.port),
        device("stall", raw.stall.port),
        device("late", raw.late.port, { retries: 1 }),
        device("slow", raw.slow.port, { timeout: "500ms" }),
      ],
    });
    output = new MemoryOutput();
    collector = new Collector(config, {
      output,
      logger: quietLogger,
      backoff: { initialMs: 200, maxMs: 200 },
    });
    await collector.start();
    await sleep(2500);
    await collector.stop();
  });

  after(async () => {
    for (const s of servers) await s.close();
    await sim?.stop();
  });

  const qualities = (d: string) => new Set(output.of(d).map((r) => r.quality));

  it("keeps polling the good device on schedule while eight others misbehave", () => {
    const good = collector.stats().find((s) => s.device === "good");
    assert.ok(good && good.gathers >= 20, `good gathered ${good?.gathers}`);
    assert.equal(good.badRecords, 0);
    assert.ok(output.of("good").every((r) => typeof r.value === "number" && r.value >= 0));
  });

  it("marks a short frame bad_response with no value", () => {
    assert.deepEqual(qualities("short"), new Set(["bad_response"]));
    assert.ok(output.of("short").every((r) => r.value === null));
  });

  it("ignores a reply with the wrong transaction id and reports a timeout", () => {
    assert.deepEqual(qualities("wrongTid"), new Set(["timeout"]));
    assert.ok(output.of("wrongTid").every((r) => r.value === null));
  });

  it("turns exception 02 into illegal_address and keeps polling (an exception is an answer)", () => {
    assert.deepEqual(qualities("illegal"), new Set(["illegal_address"]));
    const s = collector.stats().find((x) => x.device === "illegal");
    assert.ok(
      s && s.gathers >= 20 && s.failures === 0,
      `gathers ${s?.gathers} failures ${s?.failures}`,
    );
  });

  it("retries exception 06 (busy) with backoff and delivers the value", () => {
    const records = output.of("busy");
    assert.ok(records.length >= 3);
    assert.ok(records.every((r) => r.quality === "good" && r.value === 42));
  });

  it("survives garbage with a bogus length: timeouts, then the line is reset and reopened", () => {
    assert.deepEqual(qualities("garbage"), new Set(["timeout"]));
    assert.ok(raw.garbage.connections >= 2, `connections ${raw.garbage.connections}`);
    const line = collector
      .lineStats()
      .find((l) => l.line === `tcp://127.0.0.1:${raw.garbage.port}`);
    assert.equal(line?.reconnects, raw.garbage.connections - 1);
  });

  it("reports a stalled server as timeout and backs it off", () => {
    assert.deepEqual(qualities("stall"), new Set(["timeout"]));
    const s = collector.stats().find((x) => x.device === "stall");
    assert.ok(s && s.failures >= 1 && s.gathers < 20);
  });

  it("discards a late reply by transaction id: the retry gets its own answer, the link stays in step", () => {
    const values = output.of("late").map((r) => r.value);
    assert.ok(values.length >= 10);
    assert.ok(!values.includes(111), `late reply leaked: ${values.join(",")}`);
    assert.ok(values.every((v) => v === 222));
    assert.equal(raw.late.connections, 1);
  });

  it("reports poll overruns of a device slower than its interval instead of queueing polls", () => {
    const s = collector.stats().find((x) => x.device === "slow");
    assert.ok(s, "slow device stats");
    // 2.5 s at 100 ms with 250 ms replies: about 9 polls, the ticks between them overruns.
    assert.ok(s.gathers >= 5 && s.gathers <= 12, `gathers ${s.gathers}`);
    assert.ok(s.overruns >= 10, `overruns ${s.overruns}`);
    assert.equal(raw.slow.requests, s.gathers);
    assert.ok(output.of("slow").every((r) => r.quality === "good" && r.value === 5));
  });
});
