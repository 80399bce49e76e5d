import { strict as assert } from "node:assert";
import { readingOf, type Sample } from "../../collector/sample-quality.js";

const value = (v: number | bigint | boolean | string): Sample => ({ kind: "value", value: v });
const array = (items: number[] | bigint[] | boolean[]): Sample => ({
  kind: "array",
  length: items.length,
  items: () => items,
});

describe("sample quality: the one mapping from a sample and its status to a record", () => {
  it("keeps a plain Good value with quality good and no status", () => {
    assert.deepEqual(readingOf(value(1.5)), { value: 1.5, quality: "good" });
    assert.deepEqual(readingOf(value(2n ** 64n - 1n)), { value: 2n ** 64n - 1n, quality: "good" });
    assert.deepEqual(readingOf(value("WT-07")), { value: "WT-07", quality: "good" });
  });

  it("keeps a Good-family value with quality good and the status name", () => {
    assert.deepEqual(readingOf(value(12.5), { severity: "good", name: "GoodClamped" }), {
      value: 12.5,
      quality: "good",
      status: "GoodClamped",
    });
    assert.deepEqual(readingOf(value(7), { severity: "good", name: "Good#Overflow" }), {
      value: 7,
      quality: "good",
      status: "Good#Overflow",
    });
  });

  it("keeps an Uncertain value with quality uncertain", () => {
    const status = { severity: "uncertain", name: "UncertainLastUsableValue" } as const;
    assert.deepEqual(readingOf(value(3.5), status), {
      value: 3.5,
      quality: "uncertain",
      status: "UncertainLastUsableValue",
    });
    assert.deepEqual(readingOf(array([1, 2]), status).quality, "uncertain");
  });

  it("drops the value of a Bad status, whose name is the quality", () => {
    assert.deepEqual(readingOf(value(99), { severity: "bad", name: "BadSensorFailure" }), {
      value: null,
      quality: "BadSensorFailure",
      status: "BadSensorFailure",
    });
  });

  it("makes NaN and ±Infinity bad_type without a value, status naming it, scalar or in an array", () => {
    for (const n of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      assert.deepEqual(readingOf(value(n)), {
        value: null,
        quality: "bad_type",
        status: String(n),
      });
    }
    assert.deepEqual(readingOf(array([1, 2, Number.NaN])), {
      value: null,
      quality: "bad_type",
      status: "NaN at [2]",
    });
  });

  it("gives an empty source no_value and an unsupported type bad_type naming the type", () => {
    assert.deepEqual(readingOf({ kind: "empty" }), { value: null, quality: "no_value" });
    assert.deepEqual(readingOf({ kind: "unsupported", dataType: "ExtensionObject" }), {
      value: null,
      quality: "bad_type",
      status: "ExtensionObject",
    });
  });

  it("records arrays up to maxArrayLength and makes longer ones too_large without converting them", () => {
    assert.deepEqual(readingOf(array([true, false]), undefined, 2), {
      value: [true, false],
      quality: "good",
    });
    let converted = false;
    const long: Sample = {
      kind: "array",
      length: 1025,
      items: () => {
        converted = true;
        return [];
      },
    };
    assert.deepEqual(readingOf(long), {
      value: null,
      quality: "too_large",
      status: "1025 elements > 1024",
    });
    assert.equal(converted, false);
    assert.equal(readingOf(array([1]), undefined, 0).quality, "too_large");
  });
});
