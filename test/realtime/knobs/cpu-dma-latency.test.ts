import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { CPU_DMA_LATENCY, holdCpuDmaLatency } from "../../../realtime/index.js";

/** Reading the PM QoS device gives the target in force now, across all requests. */
const current = () => readFileSync(CPU_DMA_LATENCY).readInt32LE(0);

describe("realtime cpu-dma-latency", () => {
  it("holds the request while the hold lasts and the kernel drops it on release", async () => {
    const before = current();
    const target = Math.max(0, Math.min(before - 1, 7));
    const hold = await holdCpuDmaLatency(target);
    try {
      assert.ok(hold);
      assert.equal(hold.us, target);
      assert.equal(current(), target);
    } finally {
      await hold?.release();
    }
    assert.equal(current(), before);
  });

  it("goes on without a request where the box has no PM QoS device", async () => {
    assert.equal(await holdCpuDmaLatency(0, "/nonexistent/cpu_dma_latency"), null);
  });

  it("refuses a negative or fractional latency before opening anything", async () => {
    await assert.rejects(holdCpuDmaLatency(-1, "/nonexistent"), RangeError);
    await assert.rejects(holdCpuDmaLatency(0.5, "/nonexistent"), RangeError);
  });
});
