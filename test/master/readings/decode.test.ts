import { strict as assert } from "node:assert";
import { deflateSync } from "node:zlib";
import avro from "avsc";
import {
  encodeRecord,
  RECORD_SCHEMA,
  RECORD_SCHEMA_FINGERPRINT,
  type TelemetryRecord,
} from "../../../collector/record.js";
import { encodeRecords } from "../../../common/record-frame.js";
import { exactLong } from "../../../master/readings/avro-long.js";
import { decodeChunk, MAX_INFLATED_BYTES } from "../../../master/readings/chunk-decoder.js";
import { recordReader } from "../../../master/readings/record-reader.js";
import { compiledReader } from "../../../master/readings/record-readers.js";
import { compileSchema, nestingDepth } from "../../../master/readings/schema-check.js";
import { readingValue } from "../../../master/readings/value-kind.js";
import { fingerprintOf, schemaType } from "../../helpers/record-chunks.js";

const base = [
  { name: "device", type: "string" },
  { name: "tag", type: "string" },
  { name: "ts", type: "long" },
  { name: "quality", type: "string" },
];

function record(value: unknown, extraFields: { name: string; type: unknown }[] = []) {
  return {
    type: "record",
    name: "R",
    fields: [...base, { name: "value", type: value }, ...extraFields],
  };
}

function chunkOf(payloads: Buffer[], firstSeq = 1) {
  return {
    body: encodeRecords(payloads, firstSeq),
    compression: "none" as const,
    firstSeq,
    lastSeq: firstSeq + payloads.length - 1,
    records: payloads.length,
  };
}

describe("master/readings: decoding chunks by their schema", () => {
  it("reads longs exactly: numbers while a double holds them, bigints beyond", () => {
    const type = avro.Type.forSchema("long", { registry: { long: exactLong } });
    for (const v of [
      0,
      1,
      -1,
      2 ** 48,
      -(2 ** 48) - 1,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
    ]) {
      assert.equal(type.fromBuffer(type.toBuffer(v)), v);
    }
    for (const v of [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)]) {
      assert.equal(type.fromBuffer(type.toBuffer(v)), v);
    }
    assert.throws(
      () => type.fromBuffer(Buffer.from([...Array(10).fill(0xff), 0x01])),
      /long varint of 11 bytes/,
    );
  });

  it("checks a schema: the collector's passes with its fingerprint; brackets in strings do not nest", () => {
    assert.ok(compileSchema(RECORD_SCHEMA_FINGERPRINT, JSON.stringify(RECORD_SCHEMA)));
    assert.equal(nestingDepth('{"doc":"[[[[{{{{","a":[{"b":[]}]}'), 4);
    assert.equal(nestingDepth('{"doc":"\\"[["}'), 1);
  });

  it("reads every value the collector records: 64-bit exact, each array kind, status, outage bounds", () => {
    const read = recordReader(
      compileSchema(RECORD_SCHEMA_FINGERPRINT, JSON.stringify(RECORD_SCHEMA)),
    );
    const at = { device: "d", ts: 1000, quality: "good" };
    const records: TelemetryRecord[] = [
      { ...at, tag: "f", value: 1.5, unit: "rpm", status: "GoodClamped" },
      { ...at, tag: "i", value: -(2n ** 62n) - 1n },
      { ...at, tag: "u", value: 2n ** 64n - 1n },
      { ...at, tag: "da", value: [1.5, -2] },
      { ...at, tag: "la", value: [2n ** 60n + 1n, -1n] },
      { ...at, tag: "ua", value: [2n ** 64n - 1n, 1n] },
      { ...at, tag: "ba", value: [true, false] },
      { ...at, tag: "r", value: null, quality: "resumed", outageFrom: 10, outageTo: 20 },
    ];
    const rows = decodeChunk(chunkOf(records.map(encodeRecord)), read);
    assert.deepEqual(
      rows.map((r) => [r.tag, readingValue(r.kind, r.value), r.status, r.unit]),
      [
        ["f", 1.5, "GoodClamped", "rpm"],
        ["i", -(2n ** 62n) - 1n, null, null],
        ["u", 2n ** 64n - 1n, null, null],
        ["da", [1.5, -2], null, null],
        ["la", [2n ** 60n + 1n, -1n], null, null],
        ["ua", [2n ** 64n - 1n, 1n], null, null],
        ["ba", [true, false], null, null],
        ["r", null, null, null],
      ],
    );
    assert.equal(rows.at(-1)?.extra, '{"outageFrom":10,"outageTo":20}');
  });

  it("takes a value that is no union, an enum as its symbol, one bare array branch", () => {
    const schema = record(
      [
        "null",
        { type: "enum", name: "Mode", symbols: ["AUTO", "OFF"] },
        { type: "array", items: "float" },
      ],
      [
        {
          name: "detail",
          type: {
            type: "record",
            name: "D",
            fields: [
              { name: "code", type: "int" },
              { name: "big", type: "long" },
            ],
          },
        },
      ],
    );
    const type = schemaType(schema);
    const read = recordReader(compileSchema(fingerprintOf(schema), JSON.stringify(schema)));
    const payloads = [
      {
        device: "d",
        tag: "mode",
        ts: 5n,
        quality: "good",
        value: { Mode: "OFF" },
        detail: { code: 3, big: 2n ** 60n },
      },
      {
        device: "d",
        tag: "spectrum",
        ts: 6n,
        quality: "good",
        value: { array: [0.5, 2] },
        detail: { code: 4, big: 1n },
      },
    ].map((r) => type.toBuffer(r));
    const rows = decodeChunk(chunkOf(payloads), read);
    assert.deepEqual(
      rows.map((r) => [r.tag, r.ts, r.seq, r.kind, r.value, r.extra]),
      [
        ["mode", 5, 1, 5, "OFF", '{"detail":{"code":3,"big":"1152921504606846976"}}'],
        [
          "spectrum",
          6,
          2,
          6,
          Buffer.from(new Float64Array([0.5, 2]).buffer),
          '{"detail":{"code":4,"big":1}}',
        ],
      ],
    );
    const plain = record("double");
    const readPlain = recordReader(compileSchema(fingerprintOf(plain), JSON.stringify(plain)));
    const payload = schemaType(plain).toBuffer({
      device: "d",
      tag: "t",
      ts: 1n,
      quality: "good",
      value: 2.5,
    });
    assert.deepEqual(
      decodeChunk(chunkOf([payload]), readPlain).map((r) => [r.kind, r.value]),
      [[1, 2.5]],
    );
  });

  it("fails a chunk whose value has no reading form, naming the record and the type", () => {
    const schema = record(["null", "bytes"]);
    const read = recordReader(compileSchema(fingerprintOf(schema), JSON.stringify(schema)));
    const type = schemaType(schema);
    const payloads = [
      type.toBuffer({ device: "d", tag: "t", ts: 1n, quality: "good", value: null }),
      type.toBuffer({
        device: "d",
        tag: "t",
        ts: 2n,
        quality: "good",
        value: { bytes: Buffer.from("x") },
      }),
    ];
    assert.throws(
      () => decodeChunk(chunkOf(payloads, 7), read),
      /^Error: record 8: a value of type bytes is not a reading value$/,
    );
  });

  it("says why a schema cannot carry readings, once, for every chunk of it", () => {
    const noDevice = { type: "record", name: "R", fields: [{ name: "tag", type: "string" }] };
    assert.deepEqual(compiledReader(fingerprintOf(noDevice), JSON.stringify(noDevice)), {
      error: "schema cannot carry readings: schema has no field 'device'",
    });
    const tsText = record("double").fields.map((f) =>
      f.name === "ts" ? { ...f, type: "string" } : f,
    );
    const badTs = { type: "record", name: "R", fields: tsText };
    assert.deepEqual(compiledReader(fingerprintOf(badTs), JSON.stringify(badTs)), {
      error: "schema cannot carry readings: field 'ts' is a string",
    });
    assert.deepEqual(compiledReader(fingerprintOf({ type: "string" }), '"string"'), {
      error: "schema cannot carry readings: schema is a string, not a record",
    });
  });

  it("refuses a body with bytes after its last frame, a record with bytes after its end, seqs out of range, a deflate bomb", () => {
    const reader = compiledReader(RECORD_SCHEMA_FINGERPRINT, JSON.stringify(RECORD_SCHEMA));
    assert.ok("read" in reader);
    const type = schemaType(RECORD_SCHEMA);
    const payload = type.toBuffer({
      device: "d",
      tag: "t",
      ts: 1n,
      value: null,
      quality: "good",
      unit: null,
      serverTs: null,
    });
    const whole = chunkOf([payload]);
    assert.throws(
      () =>
        decodeChunk(
          { ...whole, body: Buffer.concat([whole.body, Buffer.from("xyz")]) },
          reader.read,
        ),
      /body damaged from byte \d+ to its end/,
    );
    assert.throws(
      () => decodeChunk(chunkOf([Buffer.concat([payload, Buffer.from([0])])]), reader.read),
      /record 1: record has 1 bytes after its end/,
    );
    assert.throws(
      () => decodeChunk({ ...whole, firstSeq: 2, lastSeq: 2 }, reader.read),
      /record 1 is out of order or outside the chunk's range 2..2/,
    );
    const bomb = deflateSync(Buffer.alloc(MAX_INFLATED_BYTES + 1));
    assert.throws(
      () => decodeChunk({ ...whole, compression: "deflate", body: bomb }, reader.read),
      /body does not inflate/,
    );
  });
});
