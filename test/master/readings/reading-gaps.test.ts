import { strict as assert } from "node:assert";
import type { StoredChunk } from "../../../master/index.js";
import { GapLocator, gapsByChunkTime } from "../../../master/readings/reading-gaps.js";

const gap = (fromSeq: number, toSeq: number, stream = "s") => ({
  node: "n1",
  stream,
  fromSeq,
  toSeq,
  reported: false,
});

describe("master/readings/reading-gaps", () => {
  it("places a gap between the newest reading before it and the oldest after it", () => {
    const locator = new GapLocator([gap(11, 20), gap(31, 35)]);
    // Two tags interleaved: seq 1..10 at ts 100.., then 21..30, then 36..40.
    for (const seq of [1, 2, 9, 10, 21, 22, 29, 30, 36, 40]) {
      locator.observe("n1", "s", seq, seq * 10);
    }
    assert.deepEqual(
      locator
        .located()
        .map(({ fromSeq, fromTs, toTs, records }) => ({ fromSeq, fromTs, toTs, records })),
      [
        { fromSeq: 11, fromTs: 100, toTs: 210, records: 10 },
        { fromSeq: 31, fromTs: 300, toTs: 360, records: 5 },
      ],
    );
  });

  it("leaves out gaps without readings on both sides, and other streams' readings", () => {
    const locator = new GapLocator([gap(11, 20), gap(31, 35)]);
    locator.observe("n1", "s", 25, 250);
    locator.observe("n1", "s", 28, 280);
    locator.observe("n1", "other", 40, 400);
    locator.observe("n2", "s", 40, 400);
    assert.deepEqual(locator.located(), []);
  });

  it("takes the newest before and oldest after over every slot, readings arriving in any order", () => {
    const locator = new GapLocator([gap(5, 5), gap(8, 8)]);
    locator.observe("n1", "s", 9, 900);
    locator.observe("n1", "s", 1, 100);
    locator.observe("n1", "s", 4, 400);
    // Nothing between the two gaps: the second gap's "before" is the newest before the first.
    const [first, second] = locator.located();
    assert.equal(first?.fromTs, 400);
    assert.equal(first?.toTs, 900);
    assert.equal(second?.fromTs, 400);
    assert.equal(second?.toTs, 900);
  });

  it("places aggregates' gaps by the chunks around them, inside the window only", () => {
    const chunk = (firstSeq: number, lastSeq: number, createdAt: number) =>
      ({ node: "n1", stream: "s", firstSeq, lastSeq, createdAt }) as StoredChunk;
    const chunks = [chunk(1, 10, 1000), chunk(21, 30, 3000), chunk(41, 50, 5000)];
    const gaps = [gap(11, 20), gap(31, 40)];
    assert.deepEqual(
      gapsByChunkTime(gaps, chunks, 0, 10_000).map((g) => [g.fromSeq, g.fromTs, g.toTs]),
      [
        [11, 1000, 3000],
        [31, 3000, 5000],
      ],
    );
    assert.deepEqual(
      gapsByChunkTime(gaps, chunks, 4000, 10_000).map((g) => g.fromSeq),
      [31],
    );
  });
});
