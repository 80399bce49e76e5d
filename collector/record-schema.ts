import avro from "avsc";

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Avro `long` as a JS bigint: avsc's default long type refuses values beyond 2^53, and
 * 64-bit counters (energy in Wh) must stay exact end to end.
 */
const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(0),
  toBuffer: (n: bigint | number) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n), 0);
    return buf;
  },
  fromJSON: (v: unknown) => BigInt(v as string),
  toJSON: (n: bigint) => n.toString(),
  isValid: (n: unknown) =>
    (typeof n === "bigint" && n >= INT64_MIN && n <= INT64_MAX) ||
    (typeof n === "number" && Number.isSafeInteger(n)),
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

const UINT64_FIXED = { type: "fixed", name: "UInt64", size: 8 } as const;

/** An Avro union holds one unnamed array type at most: each kind of array is a named record. */
function arrayRecord(name: string, items: unknown) {
  return { type: "record", name, fields: [{ name: "items", type: { type: "array", items } }] };
}

/**
 * The first record schema (until issue 27): chunks written with it still decode, resolved
 * against the current schema, whose added fields default to null.
 */
const RECORD_SCHEMA_V1 = {
  type: "record",
  name: "TelemetryRecord",
  namespace: "outpost.collector",
  fields: [
    { name: "device", type: "string" },
    { name: "tag", type: "string" },
    { name: "ts", type: "long" },
    { name: "value", type: ["null", "boolean", "long", "double", "string", UINT64_FIXED] },
    { name: "quality", type: "string" },
    { name: "unit", type: ["null", "string"], default: null },
    { name: "serverTs", type: ["null", "long"], default: null },
  ],
} as const;

/**
 * The record schema. `value` is a union: numbers as `double` (every 16/32-bit integer
 * and every float is exact in a double), 64-bit integers as `long`, unsigned 64-bit
 * values above 2^63-1 as an 8-byte big-endian `UInt64` fixed, so nothing is rounded;
 * arrays as one named record per element kind (`DoubleArray`, `LongArray`,
 * `UInt64Array`, `BooleanArray`). Fields added after the first version come last with
 * a null default.
 */
export const RECORD_SCHEMA = {
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
        UINT64_FIXED,
        arrayRecord("DoubleArray", "double"),
        arrayRecord("LongArray", "long"),
        arrayRecord("UInt64Array", "UInt64"),
        arrayRecord("BooleanArray", "boolean"),
      ],
    },
    { name: "quality", type: "string" },
    { name: "unit", type: ["null", "string"], default: null },
    { name: "serverTs", type: ["null", "long"], default: null },
    { name: "status", type: ["null", "string"], default: null },
    { name: "outageFrom", type: ["null", "long"], default: null },
    { name: "outageTo", type: ["null", "long"], default: null },
  ],
} as const;

function typeOf(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, {
    registry: { long: bigintLong },
    wrapUnions: true,
  });
}

export const recordType = typeOf(RECORD_SCHEMA);

/** SHA-256 of the schema's canonical form; the buffer stores it in every chunk header. */
export const RECORD_SCHEMA_FINGERPRINT: Buffer = recordType.fingerprint("sha256");

const v1Type = typeOf(RECORD_SCHEMA_V1);

/**
 * Every record schema's text by fingerprint, current and earlier: a buffer may still hold
 * chunks of an earlier one after an upgrade, and the master needs its text to decode them.
 */
export const RECORD_SCHEMA_TEXTS: ReadonlyMap<Buffer, string> = new Map([
  [RECORD_SCHEMA_FINGERPRINT, JSON.stringify(RECORD_SCHEMA)],
  [v1Type.fingerprint("sha256"), JSON.stringify(RECORD_SCHEMA_V1)],
]);

/** Fingerprints of earlier record schemas → their resolver into the current schema. */
export const olderSchemas: ReadonlyMap<string, ReturnType<avro.Type["createResolver"]>> = new Map([
  [v1Type.fingerprint("sha256").toString("hex"), recordType.createResolver(v1Type)],
]);
