import { strict as assert } from "node:assert";
import { emptyCheckpoint } from "../../buffer/checkpoint.js";
import { STREAM_DEFAULTS } from "../../buffer/config.js";
import { collectMetrics } from "../../buffer/metrics.js";
import { StreamState } from "../../buffer/stream-state.js";

describe("buffer/metrics", () => {
  it("sums the backlog over streams and takes the oldest undelivered chunk's age", () => {
    const chunk = (id: number, records: number, createdAt: number) => ({
      id,
      stream: "s",
      path: "",
      bytes: records * 10,
      records,
      firstSeq: 1,
      lastSeq: records,
      createdAt,
      state: "queued" as const,
      suspect: false,
    });
    const a = new StreamState("a", "", STREAM_DEFAULTS, async () => undefined);
    a.sealed = [chunk(1, 5, 1000), chunk(3, 2, 4000)];
    const b = new StreamState("b", "", STREAM_DEFAULTS, async () => undefined);
    b.sealed = [chunk(2, 1, 3000)];
    const totals = { ...emptyCheckpoint().totals, droppedRecords: 4 };
    const m = collectMetrics(
      [a, b],
      totals,
      {
        appendedRecords: 8,
        appendedBytes: 80,
        appendRate: 0,
        deliverRate: 0,
        retries: 2,
        pendingLossEvents: 1,
      },
      10_000,
    );
    assert.equal(m.backlogRecords, 8);
    assert.equal(m.backlogChunks, 3);
    assert.equal(m.backlogBytes, 80);
    assert.equal(m.oldestUndeliveredAgeMs, 9000);
    assert.equal(m.streams.b?.oldestUndeliveredAgeMs, 7000);
    assert.equal(m.droppedRecords, 4);
    assert.equal(m.retries, 2);
  });
});
