import { strict as assert } from "node:assert";
import { latencyHistogramText } from "../../../realtime/index.js";

describe("realtime latency histogram as text", () => {
  it("bins in powers of two from the lowest sample, side by side, with the overflow and log bars", () => {
    const text = latencyHistogramText(
      [
        {
          label: "plc cpu 1",
          histogram: [
            [9, 900],
            [12, 90],
            [40, 1],
          ],
          overflow: 0,
        },
        {
          label: "shared cpu 0",
          histogram: [
            [10, 500],
            [200, 3],
          ],
          overflow: 2,
        },
      ],
      1000,
    );
    const lines = text.split("\n");
    assert.match(lines[0] ?? "", /^\s+µs\s+plc cpu 1\s+shared cpu 0$/);
    assert.deepEqual(
      lines.slice(1).map((l) =>
        l
          .trim()
          .split(/\s+/)
          .filter((w) => !w.startsWith("#")),
      ),
      [
        ["8-15", "990", "500"],
        ["16-31", "0", "0"],
        ["32-63", "1", "0"],
        ["64-127", "0", "0"],
        ["128-255", "0", "3"],
        [">=1000", "0", "2"],
      ],
    );
    const bars = lines.slice(1).map((l) => (l.match(/#+/g) ?? []).map((b) => b.length));
    assert.equal(bars[0]?.[0], 30, "the fullest bin gets the whole bar");
    assert.ok((bars[2]?.[0] ?? 0) >= 1, "a single late sample still shows");
  });
});
