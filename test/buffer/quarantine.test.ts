import { strict as assert } from "node:assert";
import { lostRanges } from "../../buffer/quarantine.js";

describe("buffer/quarantine", () => {
  it("finds the gaps in the surviving sequence numbers within the expected range", () => {
    assert.deepEqual(lostRanges([1, 2, 3], 1, 3), []);
    assert.deepEqual(lostRanges([1, 2, 5, 6], 1, 6), [{ from: 3, to: 4 }]);
    assert.deepEqual(lostRanges([3, 4], 1, 6), [
      { from: 1, to: 2 },
      { from: 5, to: 6 },
    ]);
    assert.deepEqual(lostRanges([], 10, 12), [{ from: 10, to: 12 }]);
  });
});
