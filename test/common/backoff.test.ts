import { strict as assert } from "node:assert";
import { Backoff, backoffCeiling, backoffDelay } from "../../common/index.js";

describe("common/backoff", () => {
  describe("full jitter (the buffer's forwarder)", () => {
    it("doubles the jitter ceiling per failure up to the cap", () => {
      const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: "full" }, () => 0.999999);
      assert.deepEqual(
        Array.from({ length: 6 }, () => b.next()),
        [99, 199, 399, 799, 999, 999],
      );
      assert.equal(b.failures, 6);
    });

    it("draws each delay uniformly below the ceiling", () => {
      const b = new Backoff({ initialMs: 100, maxMs: 60_000, jitter: "full" }, () => 0.5);
      assert.deepEqual([b.next(), b.next(), b.next()], [50, 100, 200]);
    });

    it("never gives up: after a thousand failures it still returns a capped delay", () => {
      const b = new Backoff({ initialMs: 100, maxMs: 60_000, jitter: "full" }, () => 0.999999);
      let last = 0;
      for (let i = 0; i < 1000; i++) last = b.next();
      assert.equal(last, 59_999);
      assert.equal(b.failures, 1000);
    });

    it("starts over after reset", () => {
      const b = new Backoff({ initialMs: 10, maxMs: 1000, jitter: "full" }, () => 0.999999);
      b.next();
      b.next();
      b.reset();
      assert.equal(b.failures, 0);
      assert.equal(b.next(), 9);
    });
  });

  it("without jitter waits exactly the ceiling: initialMs, doubling, capped (the agent)", () => {
    const options = { initialMs: 1000, maxMs: 60_000 };
    assert.deepEqual(
      [0, 1, 2, 3, 6, 7, 100].map((n) => backoffDelay(options, n, () => 0.3)),
      [0, 1000, 2000, 4000, 32_000, 60_000, 60_000],
    );
  });

  it("bounded jitter never waits less than initialMs (the collector's inputs)", () => {
    const options = { initialMs: 500, maxMs: 30_000, jitter: "bounded" } as const;
    assert.equal(
      backoffDelay(options, 1, () => 0),
      500,
    );
    assert.equal(
      backoffDelay(options, 1, () => 0.999),
      500,
    );
    assert.equal(
      backoffDelay(options, 3, () => 0),
      500,
    );
    assert.equal(
      backoffDelay(options, 3, () => 0.5),
      1250,
    );
    // initialMs = maxMs: a fixed wait whatever the draw.
    assert.equal(
      backoffDelay({ initialMs: 200, maxMs: 200, jitter: "bounded" }, 9, () => 0.7),
      200,
    );
  });

  it("equal jitter waits between half the ceiling and the ceiling (the agent's reports)", () => {
    const options = { initialMs: 1000, maxMs: 60_000, jitter: "equal" } as const;
    assert.equal(
      backoffDelay(options, 2, () => 0),
      1000,
    );
    assert.equal(
      backoffDelay(options, 2, () => 0.5),
      1500,
    );
    assert.equal(
      backoffDelay(options, 2, () => 0.999999),
      1999,
    );
  });

  it("caps the exponent so a long outage never overflows the ceiling", () => {
    assert.equal(backoffCeiling({ initialMs: 1, maxMs: Number.MAX_VALUE }, 10_000), 2 ** 30);
  });
});
