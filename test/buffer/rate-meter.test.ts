import { strict as assert } from "node:assert";
import { RateMeter } from "../../buffer/rate-meter.js";

describe("buffer/rate-meter", () => {
  it("averages events per second over its window and forgets what slid out", () => {
    let now = 1_000_000;
    const meter = new RateMeter(10, () => now);
    meter.add(50);
    now += 1000;
    meter.add(50);
    assert.equal(meter.rate(), 10);
    now += 9000;
    assert.equal(meter.rate(), 5);
    now += 60_000;
    assert.equal(meter.rate(), 0);
  });
});
