import {
  INT64_MAX,
  INT64_MIN,
  olderSchemas,
  RECORD_SCHEMA_FINGERPRINT,
  recordType,
  UINT64_MAX,
} from "./record-schema.js";

export { RECORD_SCHEMA, RECORD_SCHEMA_FINGERPRINT } from "./record-schema.js";

/**
 * A tag's value: `bigint` for 64-bit integers (exact), arrays of numbers, 64-bit
 * integers or booleans, `null` when the quality has no value (see quality.ts).
 */
export type TagValue = number | bigint | boolean | string | number[] | bigint[] | boolean[] | null;

/** One reading of one tag: what every input produces and the buffer stores. */
export interface TelemetryRecord {
  device: string;
  tag: string;
  /** Milliseconds since the epoch: the source timestamp when the device gives one. */
  ts: number;
  value: TagValue;
  /** `good`, `uncertain` or a short bad-quality code (see quality.ts). */
  quality: string;
  unit?: string;
  /** OPC-UA server timestamp, when the server sent one. */
  serverTs?: number;
  /** The source's own status when it is not plain Good (`GoodClamped`, `BadNodeIdUnknown`), or why a value was refused. */
  status?: string;
  /** On a `resumed` record: the outage it ends, ms since the epoch. */
  outageFrom?: number;
  outageTo?: number;
}

const NS = "outpost.collector.";
const UINT64 = `${NS}UInt64`;

type Wrapped = Record<string, unknown> | null;

function uint64Bytes(n: bigint): Buffer {
  if (n < 0n || n > UINT64_MAX) throw new RangeError(`${n} exceeds 64 bits`);
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64BE(n, 0);
  return buf;
}

const inInt64 = (n: bigint) => n >= INT64_MIN && n <= INT64_MAX;

function wrapArray(values: number[] | bigint[] | boolean[]): Wrapped {
  const first = values[0];
  if (typeof first === "boolean") return { [`${NS}BooleanArray`]: { items: values } };
  if (typeof first !== "bigint") return { [`${NS}DoubleArray`]: { items: values } };
  const ints = values as bigint[];
  // One UInt64 element above 2^63-1 makes the whole array unsigned, as its source type was.
  if (ints.every(inInt64)) return { [`${NS}LongArray`]: { items: ints } };
  return { [`${NS}UInt64Array`]: { items: ints.map(uint64Bytes) } };
}

function wrapValue(value: TagValue): Wrapped {
  if (value === null) return null;
  if (Array.isArray(value)) return wrapArray(value);
  switch (typeof value) {
    case "boolean":
      return { boolean: value };
    case "number":
      return { double: value };
    case "string":
      return { string: value };
    default:
      return inInt64(value) ? { long: value } : { [UINT64]: uint64Bytes(value) };
  }
}

function unwrapValue(wrapped: Wrapped): TagValue {
  if (wrapped === null) return null;
  const [branch, v] = Object.entries(wrapped)[0] as [string, unknown];
  if (branch === UINT64) return (v as Buffer).readBigUInt64BE(0);
  if (branch === `${NS}UInt64Array`) {
    return (v as { items: Buffer[] }).items.map((b) => b.readBigUInt64BE(0));
  }
  if (branch.startsWith(NS)) return (v as { items: number[] | bigint[] | boolean[] }).items;
  return v as TagValue;
}

const optionalString = (s: string | undefined) => (s === undefined ? null : { string: s });
const optionalLong = (n: number | undefined) => (n === undefined ? null : { long: BigInt(n) });

/** One record → Avro binary (no container framing: the buffer frames records). */
export function encodeRecord(r: TelemetryRecord): Buffer {
  return recordType.toBuffer({
    device: r.device,
    tag: r.tag,
    ts: BigInt(r.ts),
    value: wrapValue(r.value),
    quality: r.quality,
    unit: optionalString(r.unit),
    serverTs: optionalLong(r.serverTs),
    status: optionalString(r.status),
    outageFrom: optionalLong(r.outageFrom),
    outageTo: optionalLong(r.outageTo),
  });
}

type OptionalLong = { long: bigint } | null;

interface Decoded {
  device: string;
  tag: string;
  ts: bigint;
  value: Wrapped;
  quality: string;
  unit: { string: string } | null;
  serverTs: OptionalLong;
  status: { string: string } | null;
  outageFrom: OptionalLong;
  outageTo: OptionalLong;
}

/** Whether a chunk's schema fingerprint is a record schema of the collector, current or earlier. */
export function isRecordSchema(fingerprint: Uint8Array): boolean {
  const fp = Buffer.from(fingerprint);
  return fp.equals(RECORD_SCHEMA_FINGERPRINT) || olderSchemas.has(fp.toString("hex"));
}

/**
 * Avro binary → record. `fingerprint` names the schema the record was written with (the
 * chunk header's); records of an earlier schema are resolved, their new fields unset.
 */
export function decodeRecord(buf: Buffer, fingerprint?: Uint8Array): TelemetryRecord {
  const resolver =
    fingerprint === undefined
      ? undefined
      : olderSchemas.get(Buffer.from(fingerprint).toString("hex"));
  const d = recordType.fromBuffer(buf, resolver) as Decoded;
  const r: TelemetryRecord = {
    device: d.device,
    tag: d.tag,
    ts: Number(d.ts),
    value: unwrapValue(d.value),
    quality: d.quality,
  };
  if (d.unit) r.unit = d.unit.string;
  if (d.serverTs) r.serverTs = Number(d.serverTs.long);
  if (d.status) r.status = d.status.string;
  if (d.outageFrom) r.outageFrom = Number(d.outageFrom.long);
  if (d.outageTo) r.outageTo = Number(d.outageTo.long);
  return r;
}

/** A value in the project's one JSON form: 64-bit integers as decimal strings, in arrays too. */
export function jsonValue(value: TagValue): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map((v) => (typeof v === "bigint" ? v.toString() : v));
  return value;
}

/**
 * The `--json` line of a record: `{"device","tag","ts","value","quality"}`, then `unit`,
 * `status`, `outageFrom`, `outageTo` when set; times in ISO 8601, 64-bit integers as
 * decimal strings.
 */
export function recordToJsonLine(r: TelemetryRecord): string {
  const out: Record<string, unknown> = {
    device: r.device,
    tag: r.tag,
    ts: new Date(r.ts).toISOString(),
    value: jsonValue(r.value),
    quality: r.quality,
  };
  if (r.unit !== undefined) out.unit = r.unit;
  if (r.status !== undefined) out.status = r.status;
  if (r.outageFrom !== undefined) out.outageFrom = new Date(r.outageFrom).toISOString();
  if (r.outageTo !== undefined) out.outageTo = new Date(r.outageTo).toISOString();
  return JSON.stringify(out);
}
