import { strict as assert } from "node:assert";
import { PartitionBacklog } from "../../../agent/index.js";

describe("local API partition backlog", () => {
  it("is unknown until a post told one", () => {
    const b = new PartitionBacklog();
    b.start({ records: 5, bytes: 50, createdAt: 0 });
    assert.equal(b.current(1000), undefined);
  });

  it("adds what is being relayed to what the forwarder said waits; the oldest of either", () => {
    const b = new PartitionBacklog();
    b.tell({ records: 10, bytes: 100, oldestAgeMs: 300 }, 1000);
    const end = b.start({ records: 4, bytes: 40, createdAt: 200 });
    assert.deepEqual(b.current(1000), { records: 14, bytes: 140, oldestAgeMs: 800 });
    end(true);
    // Delivered: gone; what waited ages.
    assert.deepEqual(b.current(2000), { records: 10, bytes: 100, oldestAgeMs: 1300 });
  });

  it("keeps a relay that failed until the next post says what waits", () => {
    const b = new PartitionBacklog();
    b.tell({ records: 0, bytes: 0, oldestAgeMs: 0 }, 1000);
    const end = b.start({ records: 4, bytes: 40, createdAt: 900 });
    end(false);
    const now = Date.now();
    const failed = b.current(now);
    assert.equal(failed?.records, 4);
    assert.equal(failed?.oldestAgeMs, now - 900);
    b.tell({ records: 0, bytes: 0, oldestAgeMs: 0 }, now);
    assert.deepEqual(b.current(now), { records: 0, bytes: 0, oldestAgeMs: 0 });
  });
});
