import { strict as assert } from "node:assert";
import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Server } from "node:net";
import type { Input, InputContext, TelemetryRecord } from "../../collector/index.js";
import { RunningInput } from "../../collector/running-input.js";
import { MemoryOutput, quietLogger, sleep, waitFor } from "./fixtures.js";

/**
 * An input whose device is a real loopback listener: the probe connects to it, `start`
 * succeeds unless `refuse` is set, and the test plays the device through the context.
 */
class LoopbackInput implements Input {
  readonly kind = "opcua";
  readonly device = "dev";
  readonly intervalMs = 100;
  readonly tags = [{ name: "a" }, { name: "b", unit: "V" }];
  ctx: InputContext | undefined;
  probes = 0;
  starts: number[] = [];
  refuse: Error | undefined;
  /** Emitted from within `start`, as a subscription's first values are. */
  firstValues: TelemetryRecord[] = [];

  constructor(public port: number) {}

  probe(): Promise<void> {
    this.probes++;
    return new Promise((resolve, reject) => {
      const socket = connect(this.port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", reject);
    });
  }

  async start(ctx: InputContext): Promise<void> {
    this.starts.push(Date.now());
    if (this.refuse) throw this.refuse;
    this.ctx = ctx;
    ctx.emit(this.firstValues);
  }

  async stop(): Promise<void> {}
}

async function listen(port = 0): Promise<Server> {
  const server = createServer((s) => s.destroy());
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  return server;
}

const good = (tag: string): TelemetryRecord => ({
  device: "dev",
  tag,
  ts: Date.now(),
  value: 1,
  quality: "good",
});

describe("RunningInput: outages of an input that can be probed", function () {
  this.timeout(30_000);
  let device: Server;
  let input: LoopbackInput;
  let output: MemoryOutput;
  let running: RunningInput;

  beforeEach(async () => {
    device = await listen();
    input = new LoopbackInput((device.address() as AddressInfo).port);
    output = new MemoryOutput();
    running = new RunningInput(input, output, quietLogger, { initialMs: 1500, maxMs: 1500 });
    running.start();
    await waitFor(() => input.ctx !== undefined, 5000, "the first start");
  });
  afterEach(async () => {
    await running.stop();
    device.close();
  });

  it("marks the loss once per tag, probes without writing while the device is away, and resumes before the first data", async () => {
    const ctx = input.ctx as InputContext;
    const lastHeard = Date.now() - 300;
    device.close();
    ctx.fail(new Error("connection lost"), lastHeard);
    assert.deepEqual(
      output.records.map((r) => [r.tag, r.quality, r.value, r.ts, r.unit]),
      [
        ["a", "comm_error", null, lastHeard, undefined],
        ["b", "comm_error", null, lastHeard, "V"],
      ],
    );
    await sleep(2500);
    assert.equal(input.starts.length, 1, "no start while the probe fails");
    assert.ok(input.probes >= 4, `${input.probes} probes in 2.5 s`);
    assert.equal(output.records.length, 2, "a failed probe writes nothing");
    assert.equal(running.stats.state, "backoff");

    input.firstValues = [good("a"), good("b")];
    device = await listen(input.port);
    const back = Date.now();
    await waitFor(() => input.starts.length === 2, 5000, "the start after the return");
    assert.ok((input.starts[1] as number) - back <= 600, "probed at most 500 ms apart");
    const after = output.records.slice(2);
    assert.deepEqual(
      after.map((r) => [r.tag, r.quality]),
      [
        ["a", "resumed"],
        ["b", "resumed"],
        ["a", "good"],
        ["b", "good"],
      ],
    );
    for (const r of after.slice(0, 2)) {
      assert.equal(r.value, null);
      assert.equal(r.outageFrom, lastHeard);
      assert.ok((r.outageTo as number) >= back && r.outageTo === r.ts);
    }
    assert.equal(running.stats.state, "running");
  });

  it("waits the long backoff when a start fails although the probe passed, marking each refusal", async () => {
    const ctx = input.ctx as InputContext;
    input.refuse = Object.assign(new Error("certificate refused"), { code: "E_OPCUA_UNTRUSTED" });
    ctx.fail(new Error("connection lost"));
    await waitFor(() => input.starts.length === 3, 10_000, "two refused starts");
    const gap = (input.starts[2] as number) - (input.starts[1] as number);
    assert.ok(gap >= 1500, `refused starts ${gap} ms apart`);
    assert.deepEqual(
      output.records.map((r) => r.quality),
      ["comm_error", "comm_error", ...Array(4).fill("untrusted_certificate")],
    );
    input.refuse = undefined;
    await waitFor(() => running.stats.state === "running", 10_000, "the accepted start");
    assert.deepEqual(
      output.records.slice(-2).map((r) => r.quality),
      ["resumed", "resumed"],
    );
  });

  it("ignores a context of an earlier start: it neither fails nor resumes the input", async () => {
    const stale = input.ctx as InputContext;
    stale.fail(new Error("connection lost"));
    await waitFor(
      () => running.stats.state === "running" && input.ctx !== stale,
      5000,
      "a new start",
    );
    const written = output.records.length;
    stale.fail(new Error("late loss of the old connection"));
    stale.emit([good("a")]);
    assert.equal(running.stats.state, "running");
    assert.deepEqual(
      output.records.slice(written).map((r) => r.quality),
      ["good"],
      "the late value is kept, nothing else",
    );
  });
});
