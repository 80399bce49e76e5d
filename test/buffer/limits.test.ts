import { strict as assert } from "node:assert";
import { DiskBudget } from "../../buffer/limits.js";

describe("buffer/limits", () => {
  it("says no once bytes or chunk files would pass their limits", () => {
    const budget = new DiskBudget(1000, 2);
    budget.addBytes(900);
    assert.ok(budget.fits(100));
    assert.ok(!budget.fits(101));
    budget.addChunk();
    budget.addChunk();
    assert.ok(!budget.fits(1));
    budget.removeChunk(500);
    assert.ok(budget.fits(101));
  });

  it("lets anything into an empty buffer, so one huge append is not refused forever", () => {
    assert.ok(new DiskBudget(10, 1).fits(1_000_000));
  });

  it("wakes waiters on a release and times out without one", async () => {
    const budget = new DiskBudget(100, 10);
    budget.addBytes(100);
    const timedOut = await budget.waitForRelease(20);
    assert.equal(timedOut, false);
    const woken = budget.waitForRelease(10_000);
    budget.addBytes(-50);
    assert.equal(await woken, true);
  });
});
