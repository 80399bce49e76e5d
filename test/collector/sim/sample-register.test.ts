import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { type RunningTurbineSim, startTurbineSim } from "../../../collector/index.js";

/**
 * One read of holding registers with mbpoll (an independent client), 1-based `ref`;
 * asynchronous, as the simulator answers from this process.
 */
async function mbpollRead(port: number, ref: number, count: number): Promise<number[]> {
  const r = await promisify(execFile)(
    "mbpoll",
    ["-m", "tcp", "-p", String(port), "-a", "1", "-t", "4", "-r", String(ref)].concat([
      "-c",
      String(count),
      "-1",
      "127.0.0.1",
    ]),
    { encoding: "utf8", timeout: 10_000 },
  );
  return [...r.stdout.matchAll(/^\[\d+\]:\s+(-?\d+)/gm)].map((m) => Number(m[1]));
}

describe("turbine simulator: the sample number register", () => {
  let sim: RunningTurbineSim;
  let port: number;

  before(async () => {
    sim = await startTurbineSim({ seed: 1, modbus: { host: "127.0.0.1", port: 0 } });
    port = sim.modbus?.port as number;
  });
  after(() => sim.stop());

  it("numbers every read that covers register 16, and only those", async () => {
    // Registers 16..17 (refs 17, 18): uint32 ABCD, high word first.
    const sample = (words: number[]) => (words[0] as number) * 65536 + (words[1] as number);
    assert.equal(sample(await mbpollRead(port, 17, 2)), 1);
    assert.equal(sample(await mbpollRead(port, 17, 2)), 2);
    await mbpollRead(port, 1, 16);
    await mbpollRead(port, 18, 1);
    assert.equal(sim.image.samplesServed, 2, "reads not covering 16 took no number");
    const block = await mbpollRead(port, 1, 18);
    assert.equal(sample(block.slice(16)), 3, "a block read covering 16 takes one");
    assert.equal(sim.image.samplesServed, 3);
  });
});
