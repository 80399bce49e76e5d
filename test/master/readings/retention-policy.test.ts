import { strict as assert } from "node:assert";
import {
  deletesAnything,
  FOREVER,
  KEEP_EVERYTHING,
  parseRetention,
  retentionOf,
} from "../../../master/readings/retention-policy.js";

const DAY = 86_400_000;

describe("retention policy (--retention, --keep-chunks)", () => {
  it("keeps everything forever without flags, and then deletes nothing", () => {
    const policy = parseRetention([]);
    assert.deepEqual(policy, KEEP_EVERYTHING);
    assert.deepEqual(retentionOf(policy, "turbine"), { rawMs: FOREVER, rollupMs: FOREVER });
    assert.equal(deletesAnything(policy), false);
  });

  it("gives each named stream its own durations and every other stream the '*' ones", () => {
    const policy = parseRetention(["*:30d:730d", "turbine:1d:365d", "plc:a:36h:forever"], "7");
    assert.deepEqual(retentionOf(policy, "turbine"), { rawMs: DAY, rollupMs: 365 * DAY });
    assert.deepEqual(retentionOf(policy, "plc:a"), { rawMs: 36 * 3_600_000, rollupMs: FOREVER });
    assert.deepEqual(retentionOf(policy, "other"), { rawMs: 30 * DAY, rollupMs: 730 * DAY });
    assert.equal(policy.keepChunksMs, 7 * DAY);
    assert.equal(deletesAnything(policy), true);
    assert.deepEqual(retentionOf(parseRetention(["turbine:1d:2d"]), "other"), {
      rawMs: FOREVER,
      rollupMs: FOREVER,
    });
    assert.equal(deletesAnything(parseRetention([], "0.5")), true);
  });

  it("refuses what does not hold, naming the flag and the part", () => {
    const refused: [string[], string | undefined, RegExp][] = [
      [["1d:30d"], undefined, /^--retention '1d:30d': expected STREAM:RAW:ROLLUP/],
      [[":1d:30d"], undefined, /^--retention ':1d:30d': the stream is empty/],
      [["*:1w:30d"], undefined, /^--retention '\*:1w:30d': raw '1w' must be a duration/],
      [["*:1d:"], undefined, /^--retention '\*:1d:': rollup '' must be a duration/],
      [["*:30s:1d"], undefined, /^--retention '\*:30s:1d': raw '30s' must be at least 1m/],
      [
        ["*:30d:1d"],
        undefined,
        /^--retention '\*:30d:1d': rollups \(1d\) must be kept at least as long as raw readings \(30d\)/,
      ],
      [["*:forever:30d"], undefined, /rollups \(30d\) must be kept at least as long/],
      [["a:1d:2d", "a:2d:3d"], undefined, /^--retention 'a:2d:3d': stream 'a' is given twice/],
      [[], "-1", /^--keep-chunks '-1': expected a number of days/],
      [[], "7d", /^--keep-chunks '7d': expected a number of days/],
    ];
    for (const [specs, keep, message] of refused)
      assert.throws(() => parseRetention(specs, keep), { code: "E_MASTER_INVALID", message });
  });
});
