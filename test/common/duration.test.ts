import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { DURATION_PATTERN, isDuration, parseDuration } from "../../common/index.js";

const repoRoot = join(import.meta.dirname, "..", "..");

describe("common/duration", () => {
  it("reads a decimal number and a unit as milliseconds", () => {
    assert.equal(parseDuration("250ms"), 250);
    assert.equal(parseDuration("1s"), 1000);
    assert.equal(parseDuration("1.5s"), 1500);
    assert.equal(parseDuration("2m"), 120_000);
    assert.equal(parseDuration("1h"), 3_600_000);
    assert.equal(parseDuration("1d"), 86_400_000);
    assert.equal(parseDuration("0.25m"), 15_000);
  });

  it("rounds to a whole millisecond", () => {
    assert.equal(parseDuration("0.4ms"), 0);
    assert.equal(parseDuration("1.0005s"), 1001);
  });

  it("takes a number as milliseconds already", () => {
    assert.equal(parseDuration(750), 750);
  });

  it("refuses anything else with E_DURATION, the input named", () => {
    for (const text of [
      "",
      "5",
      "1.5",
      "s",
      ".5s",
      "1.s",
      "-1s",
      "1 s",
      "1S",
      "1sec",
      "1w",
      " 1s",
    ]) {
      assert.equal(isDuration(text), false, text);
      assert.throws(
        () => parseDuration(text),
        (err: unknown) =>
          err instanceof RangeError &&
          (err as { code?: string }).code === "E_DURATION" &&
          (err as { input?: string }).input === text,
        text,
      );
    }
  });

  it("DURATION_PATTERN in a JSON Schema accepts exactly what parseDuration reads", () => {
    const valid = new Ajv().compile({ type: "string", pattern: DURATION_PATTERN });
    for (const text of ["250ms", "1.5s", "2m", "1h", "1d", "10s", "1.5x", "1,5s", "5", "1.5"]) {
      assert.equal(valid(text), isDuration(text), text);
    }
  });

  it("the collector release's interval parameter takes the same grammar", () => {
    const release = parse(
      readFileSync(join(repoRoot, "collector", "release", "software.yaml"), "utf8"),
    ) as { instance: { parameters: { properties: { interval: { pattern: string } } } } };
    assert.equal(release.instance.parameters.properties.interval.pattern, DURATION_PATTERN);
  });
});
