import { strict as assert } from "node:assert";
import { InstantSyntaxError, parseInstant } from "../../common/index.js";

const NOW = Date.parse("2026-01-31T12:00:00Z");

describe("common/instant", () => {
  it("reads ISO 8601 dates and date-times", () => {
    assert.equal(parseInstant("2026-01-31T11:00:00Z", NOW), NOW - 3_600_000);
    assert.equal(parseInstant("2026-01-31T12:00:00.250+00:00", NOW), NOW + 250);
    assert.equal(parseInstant("2026-01-31", NOW), Date.parse("2026-01-31T00:00:00Z"));
  });

  it("reads whole milliseconds since the epoch, 1970 included", () => {
    assert.equal(parseInstant("1769860800000", NOW), 1_769_860_800_000);
    assert.equal(parseInstant("0", NOW), 0);
  });

  it("reads a duration as that long before now", () => {
    assert.equal(parseInstant("10m", NOW), NOW - 600_000);
    assert.equal(parseInstant("1.5h", NOW), NOW - 5_400_000);
  });

  for (const bad of [
    "",
    "yesterday",
    "-5",
    "10 m",
    "1e3",
    "2026-13-45T00:00:00Z",
    "99999999999999999",
  ]) {
    it(`refuses '${bad}' with E_INSTANT naming it`, () => {
      assert.throws(
        () => parseInstant(bad, NOW),
        (err: unknown) =>
          err instanceof InstantSyntaxError &&
          err.code === "E_INSTANT" &&
          err.message.includes(`got '${bad}'`),
      );
    });
  }
});
