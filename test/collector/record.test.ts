import { strict as assert } from "node:assert";
import avro from "avsc";
import {
  decodeRecord,
  encodeRecord,
  isRecordSchema,
  RECORD_SCHEMA,
  RECORD_SCHEMA_FINGERPRINT,
  recordToJsonLine,
  type TelemetryRecord,
} from "../../collector/index.js";

const base = { device: "wt-1", tag: "t", ts: 1_795_000_000_123, quality: "good" };

/** The first record schema, as chunks written before issue 27 carry it. */
const V1 = {
  type: "record",
  name: "TelemetryRecord",
  namespace: "outpost.collector",
  fields: [
    { name: "device", type: "string" },
    { name: "tag", type: "string" },
    { name: "ts", type: "long" },
    {
      name: "value",
      type: [
        "null",
        "boolean",
        "long",
        "double",
        "string",
        { type: "fixed", name: "UInt64", size: 8 },
      ],
    },
    { name: "quality", type: "string" },
    { name: "unit", type: ["null", "string"], default: null },
    { name: "serverTs", type: ["null", "long"], default: null },
  ],
};

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

  it("round-trips arrays of doubles, Int64, UInt64 and booleans exactly", () => {
    const arrays: TelemetryRecord["value"][] = [
      [],
      [0.5, -1e300, Math.fround(0.1), 0],
      [-(2n ** 63n), 2n ** 53n + 1n, 2n ** 63n - 1n],
      [0n, 2n ** 63n, 2n ** 64n - 1n],
      [true, false, true],
    ];
    for (const value of arrays) {
      const r: TelemetryRecord = { ...base, value };
      const back = decodeRecord(encodeRecord(r));
      assert.deepEqual(
        back,
        r,
        JSON.stringify(r.value, (_k, v) => String(v)),
      );
    }
    assert.throws(() => encodeRecord({ ...base, value: [1n, 2n ** 64n] }), RangeError);
  });

  it("round-trips the status and outage fields", () => {
    const resumed: TelemetryRecord = {
      ...base,
      value: null,
      quality: "resumed",
      outageFrom: base.ts - 20_000,
      outageTo: base.ts,
    };
    assert.deepEqual(decodeRecord(encodeRecord(resumed)), resumed);
    const clamped: TelemetryRecord = { ...base, value: 12.5, status: "GoodClamped" };
    assert.deepEqual(decodeRecord(encodeRecord(clamped)), clamped);
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
    assert.ok(isRecordSchema(RECORD_SCHEMA_FINGERPRINT));
    assert.ok(!isRecordSchema(Buffer.alloc(32)));
  });

  it("still decodes records written with the first schema, new fields unset", () => {
    const v1 = avro.Type.forSchema(V1 as avro.Schema, { wrapUnions: true });
    const fingerprint = v1.fingerprint("sha256");
    assert.ok(!fingerprint.equals(RECORD_SCHEMA_FINGERPRINT));
    assert.ok(isRecordSchema(fingerprint));
    const old = v1.toBuffer({
      device: "wt-1",
      tag: "t",
      ts: base.ts,
      value: { double: 7.25 },
      quality: "good",
      unit: { string: "kW" },
      serverTs: null,
    });
    assert.deepEqual(decodeRecord(old, fingerprint), { ...base, value: 7.25, unit: "kW" });
  });

  it("prints one JSON line with 64-bit values as decimal strings and ts in ISO 8601", () => {
    const line = recordToJsonLine({ ...base, value: 2n ** 64n - 1n, unit: "Wh" });
    assert.equal(
      line,
      '{"device":"wt-1","tag":"t","ts":"2026-11-18T11:06:40.123Z","value":"18446744073709551615","quality":"good","unit":"Wh"}',
    );
  });

  it("prints arrays with 64-bit elements as decimal strings, status and outage times", () => {
    const line = recordToJsonLine({
      ...base,
      value: [2n ** 63n, -1n],
      quality: "uncertain",
      status: "UncertainLastUsableValue",
    });
    assert.equal(
      line,
      '{"device":"wt-1","tag":"t","ts":"2026-11-18T11:06:40.123Z","value":["9223372036854775808","-1"],"quality":"uncertain","status":"UncertainLastUsableValue"}',
    );
    const resumed = JSON.parse(
      recordToJsonLine({
        ...base,
        value: null,
        quality: "resumed",
        outageFrom: base.ts - 1000,
        outageTo: base.ts,
      }),
    );
    assert.equal(resumed.outageFrom, "2026-11-18T11:06:39.123Z");
    assert.equal(resumed.outageTo, "2026-11-18T11:06:40.123Z");
    assert.equal(JSON.parse(recordToJsonLine({ ...base, value: [true, false] })).value[1], false);
  });
});
