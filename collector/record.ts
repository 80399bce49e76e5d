import avro from "avsc";

/** A tag's value: `bigint` for 64-bit integers (exact), `null` when the quality is bad. */
export type TagValue = number | bigint | boolean | string | null;

/** One reading of one tag: what every input produces and the buffer stores. */
export interface TelemetryRecord {
  device: string;
  tag: string;
  /** Milliseconds since the epoch: the source timestamp when the device gives one. */
  ts: number;
  value: TagValue;
  /** `good` or a short bad-quality code (see quality.ts). */
  quality: string;
  unit?: string;
  /** OPC-UA server timestamp, when the server sent one. */
  serverTs?: number;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

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

/**
 * The record schema. `value` is a union: numbers as `double` (every 16/32-bit integer
 * and every float is exact in a double), 64-bit integers as `long`, and unsigned 64-bit
 * values above 2^63-1 as an 8-byte big-endian `UInt64` fixed, so nothing is rounded.
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
        { type: "fixed", name: "UInt64", size: 8 },
      ],
    },
    { name: "quality", type: "string" },
    { name: "unit", type: ["null", "string"], default: null },
    { name: "serverTs", type: ["null", "long"], default: null },
  ],
} as const;

const recordType = avro.Type.forSchema(RECORD_SCHEMA as unknown as avro.Schema, {
  registry: { long: bigintLong },
  wrapUnions: true,
});

/** SHA-256 of the schema's canonical form; the buffer stores it in every chunk header. */
export const RECORD_SCHEMA_FINGERPRINT: Buffer = recordType.fingerprint("sha256");

const UINT64 = "outpost.collector.UInt64";

type Wrapped = Record<string, unknown> | null;

function wrapValue(value: TagValue): Wrapped {
  if (value === null) return null;
  switch (typeof value) {
    case "boolean":
      return { boolean: value };
    case "number":
      return { double: value };
    case "string":
      return { string: value };
    default: {
      if (value >= INT64_MIN && value <= INT64_MAX) return { long: value };
      if (value < 0n || value > UINT64_MAX) throw new RangeError(`${value} exceeds 64 bits`);
      const buf = Buffer.alloc(8);
      buf.writeBigUInt64BE(value, 0);
      return { [UINT64]: buf };
    }
  }
}

function unwrapValue(wrapped: Wrapped): TagValue {
  if (wrapped === null) return null;
  const [branch, v] = Object.entries(wrapped)[0] as [string, unknown];
  if (branch === UINT64) return (v as Buffer).readBigUInt64BE(0);
  return v as TagValue;
}

/** One record → Avro binary (no container framing: the buffer frames records). */
export function encodeRecord(r: TelemetryRecord): Buffer {
  return recordType.toBuffer({
    device: r.device,
    tag: r.tag,
    ts: BigInt(r.ts),
    value: wrapValue(r.value),
    quality: r.quality,
    unit: r.unit === undefined ? null : { string: r.unit },
    serverTs: r.serverTs === undefined ? null : { long: BigInt(r.serverTs) },
  });
}

interface Decoded {
  device: string;
  tag: string;
  ts: bigint;
  value: Wrapped;
  quality: string;
  unit: { string: string } | null;
  serverTs: { long: bigint } | null;
}

export function decodeRecord(buf: Buffer): TelemetryRecord {
  const d = recordType.fromBuffer(buf) as Decoded;
  const r: TelemetryRecord = {
    device: d.device,
    tag: d.tag,
    ts: Number(d.ts),
    value: unwrapValue(d.value),
    quality: d.quality,
  };
  if (d.unit) r.unit = d.unit.string;
  if (d.serverTs) r.serverTs = Number(d.serverTs.long);
  return r;
}

/**
 * The `--json` line of a record: `{"device","tag","ts","value","quality"}` (plus `unit`
 * when set); `ts` is ISO 8601 and 64-bit integers print as decimal strings.
 */
export function recordToJsonLine(r: TelemetryRecord): string {
  const out: Record<string, unknown> = {
    device: r.device,
    tag: r.tag,
    ts: new Date(r.ts).toISOString(),
    value: typeof r.value === "bigint" ? r.value.toString() : r.value,
    quality: r.quality,
  };
  if (r.unit !== undefined) out.unit = r.unit;
  return JSON.stringify(out);
}
