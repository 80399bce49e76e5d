import { strict as assert } from "node:assert";
import avro from "avsc";
import {
  decodeRecord,
  encodeRecord,
  RECORD_SCHEMA,
  RECORD_SCHEMA_FINGERPRINT,
  recordToJsonLine,
  type TelemetryRecord,
} from "../../collector/index.js";

const base = { device: "wt-1", tag: "t", ts: 1_795_000_000_123, quality: "good" };

describe("collector record", () => {
  it("round-trips every kind of value through Avro exactly, 64-bit extremes included", () => {
    const values: TelemetryRecord["value"][] = [
      null,
      true,
      -1.5,
      Math.fround(3.3),
      "WT-07",
      -(2n ** 63n),
      2n ** 63n - 1n,
      2n ** 63n,
      2n ** 64n - 1n,
      9007199254740993n,
    ];
    for (const value of values) {
      const r: TelemetryRecord = { ...base, value, unit: "Wh", serverTs: base.ts + 5 };
      assert.deepEqual(decodeRecord(encodeRecord(r)), r, String(value));
    }
    const bare: TelemetryRecord = { ...base, value: null, quality: "timeout" };
    assert.deepEqual(decodeRecord(encodeRecord(bare)), bare);
  });

  it("refuses an integer wider than 64 bits instead of truncating it", () => {
    assert.throws(() => encodeRecord({ ...base, value: 2n ** 64n }), RangeError);
    assert.throws(() => encodeRecord({ ...base, value: -(2n ** 63n) - 1n }), RangeError);
  });

  it("fingerprints the schema with SHA-256 of its canonical form, as another Avro reader computes it", () => {
    assert.equal(RECORD_SCHEMA_FINGERPRINT.length, 32);
    const plain = avro.Type.forSchema(RECORD_SCHEMA as unknown as avro.Schema, {
      wrapUnions: true,
    });
    assert.ok(plain.fingerprint("sha256").equals(RECORD_SCHEMA_FINGERPRINT));
  });

  it("prints one JSON line with 64-bit values as decimal strings and ts in ISO 8601", () => {
    const line = recordToJsonLine({ ...base, value: 2n ** 64n - 1n, unit: "Wh" });
    assert.equal(
      line,
      '{"device":"wt-1","tag":"t","ts":"2026-11-18T11:06:40.123Z","value":"18446744073709551615","quality":"good","unit":"Wh"}',
    );
  });
});
