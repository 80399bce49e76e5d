import { strict as assert } from "node:assert";
import { Backoff } from "../../buffer/backoff.js";

describe("buffer/backoff", () => {
  it("doubles the jitter ceiling per failure up to the cap", () => {
    const b = new Backoff(100, 1000, () => 0.999999);
    assert.deepEqual(
      Array.from({ length: 6 }, () => b.next()),
      [99, 199, 399, 799, 999, 999],
    );
    assert.equal(b.failures, 6);
  });

  it("draws each delay uniformly below the ceiling (full jitter)", () => {
    const b = new Backoff(100, 60_000, () => 0.5);
    assert.deepEqual([b.next(), b.next(), b.next()], [50, 100, 200]);
  });

  it("never gives up: after a thousand failures it still returns a capped delay", () => {
    const b = new Backoff(100, 60_000, () => 0.999999);
    let last = 0;
    for (let i = 0; i < 1000; i++) last = b.next();
    assert.equal(last, 59_999);
  });

  it("starts over after reset", () => {
    const b = new Backoff(10, 1000, () => 0.999999);
    b.next();
    b.next();
    b.reset();
    assert.equal(b.failures, 0);
    assert.equal(b.next(), 9);
  });
});
