import { strict as assert } from "node:assert";
import { MemoryStage } from "../../buffer/memory-stage.js";

const turn = () => new Promise((r) => setImmediate(r));

describe("buffer/memory-stage", () => {
  it("lets appends through while they fit and makes the next one wait for a release", async () => {
    const stage = new MemoryStage(100);
    await stage.acquire(60);
    await stage.acquire(40);
    let admitted = false;
    const waiting = stage.acquire(10).then(() => {
      admitted = true;
    });
    await turn();
    assert.equal(admitted, false);
    stage.release(40);
    await waiting;
    assert.equal(stage.bytes, 70);
  });

  it("admits waiters first come, first served, even when a later one would fit", async () => {
    const stage = new MemoryStage(100);
    await stage.acquire(90);
    const order: number[] = [];
    const big = stage.acquire(50).then(() => order.push(50));
    const small = stage.acquire(5).then(() => order.push(5));
    await turn();
    assert.deepEqual(order, []);
    stage.release(90);
    await Promise.all([big, small]);
    assert.deepEqual(order, [50, 5]);
  });

  it("lets a request larger than the whole stage through alone", async () => {
    const stage = new MemoryStage(100);
    await stage.acquire(500);
    assert.equal(stage.bytes, 500);
    let admitted = false;
    const next = stage.acquire(1).then(() => {
      admitted = true;
    });
    await turn();
    assert.equal(admitted, false);
    stage.release(500);
    await next;
  });

  it("tryAcquire takes what fits at once but never jumps a queued waiter", async () => {
    const stage = new MemoryStage(100);
    assert.equal(stage.tryAcquire(70), true);
    assert.equal(stage.tryAcquire(40), false);
    assert.equal(stage.bytes, 70);
    const waiting = stage.acquire(40);
    assert.equal(stage.tryAcquire(10), false, "a waiter is queued ahead");
    stage.release(70);
    await waiting;
    assert.equal(stage.bytes, 40);
  });
});
