import type avro from "avsc";
import { packArray, type StoredValue, VALUE_KIND, type ValueKind } from "./value-kind.js";

/** One record of a chunk, decoded into the readings model (see chunk-decoder.ts). */
export interface DecodedRecord {
  device: string;
  tag: string;
  ts: number;
  seq: number;
  kind: ValueKind;
  value: StoredValue;
  quality: string;
  status: string | null;
  unit: string | null;
  /** JSON of the record's other fields that are not null, or null when there are none. */
  extra: string | null;
}

/** Reads record `seq` from `buf` at `start`; throws if it does not end exactly at `end`. */
export type RecordReader = (buf: Buffer, start: number, end: number, seq: number) => DecodedRecord;

type Convert = (v: unknown) => [ValueKind, StoredValue];

/** The fields the readings model has columns for; any other field goes to `extra`. */
const MODEL_FIELDS = new Set(["device", "tag", "ts", "value", "quality", "status", "unit"]);

/**
 * A reader for records of `type`, mapping fields by name: `device`, `tag` and `quality`
 * strings, `ts` an int or long (ms), `value` any of the value types below (or a union of
 * them), `unit` and `status` optional strings; every other field is kept in `extra`.
 * Value types: null, boolean, int, long, float, double, string, enum (its symbol), a
 * fixed of 8 bytes named `UInt64` (big-endian, any namespace), arrays of
 * double/float/long/int/boolean/UInt64, and a record of one field of any of these (Avro allows
 * one array per union: a union of several array types wraps each in a named record).
 * Throws a plain Error naming what does not fit when the schema cannot carry readings.
 */
export function recordReader(type: avro.Type): RecordReader {
  if (type.typeName !== "record") throw new Error(`schema is a ${type.typeName}, not a record`);
  const fields = new Map(
    (type as avro.types.RecordType).fields.map((f) => [f.name, f.type] as const),
  );
  for (const name of ["device", "tag", "quality"]) requireField(fields, name, isString);
  requireField(
    fields,
    "ts",
    (t) => t.typeName === "long" || t.typeName === "abstract:long" || t.typeName === "int",
  );
  const valueType = fields.get("value");
  if (!valueType) throw new Error("schema has no field 'value'");
  const convertValue = valueConverter(valueType);
  for (const name of ["unit", "status"]) {
    const t = fields.get(name);
    if (t && !isString(t) && !isOptionalString(t))
      throw new Error(`field '${name}' is a ${t.typeName}, not an optional string`);
  }
  const extraFields = [...fields]
    .filter(([name]) => !MODEL_FIELDS.has(name))
    .map(([name, t]) => ({ name, wrapped: unionBranches(t) !== undefined }));
  return (buf, start, end, seq) => {
    const { value: r, offset } = type.decode(buf, start) as {
      value: Record<string, unknown> | undefined;
      offset: number;
    };
    if (r === undefined || offset < 0 || offset > end) throw new Error("record is truncated");
    if (offset !== end) throw new Error(`record has ${end - offset} bytes after its end`);
    const [kind, value] = convertValue(r.value);
    return {
      device: r.device as string,
      tag: r.tag as string,
      ts: Number(r.ts),
      seq,
      kind,
      value,
      quality: r.quality as string,
      status: optionalString(r.status),
      unit: optionalString(r.unit),
      extra: extraFields.length > 0 ? extraJson(r, extraFields) : null,
    };
  };
}

function requireField(
  fields: Map<string, avro.Type>,
  name: string,
  ok: (t: avro.Type) => boolean,
): void {
  const t = fields.get(name);
  if (!t) throw new Error(`schema has no field '${name}'`);
  if (!ok(t)) throw new Error(`field '${name}' is a ${t.typeName}`);
}

function isString(t: avro.Type): boolean {
  return t.typeName === "string";
}

function isOptionalString(t: avro.Type): boolean {
  const branches = unionBranches(t);
  return branches?.every((b) => b.typeName === "null" || isString(b)) === true;
}

function unionBranches(t: avro.Type): avro.Type[] | undefined {
  return t.typeName.startsWith("union") ? (t as avro.types.WrappedUnionType).types : undefined;
}

/**
 * A wrapped union's value: avsc makes it an instance of its branch's class, which knows
 * its branch type and unwraps (null stays null).
 */
interface Branch {
  constructor: { type: avro.Type };
  unwrap(): unknown;
}

function unwrap(v: unknown): unknown {
  return v === null || typeof v !== "object" ? v : (v as Branch).unwrap();
}

/** An optional string field: null, a plain string, or a union's `{ string: s }`. */
function optionalString(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  const s = typeof v === "string" ? v : unwrap(v);
  return typeof s === "string" ? s : null;
}

function valueConverter(t: avro.Type): Convert {
  const branches = unionBranches(t);
  if (!branches) return converterOf(t);
  const byType = new Map(branches.map((b) => [b, converterOf(b)] as const));
  return (v) => {
    if (v === null) return [VALUE_KIND.null, null];
    const branch = v as Branch;
    const convert = byType.get(branch.constructor.type) as Convert;
    return convert(branch.unwrap());
  };
}

/** How one value type becomes a reading's value; an unsupported type throws when a value of it comes. */
function converterOf(t: avro.Type): Convert {
  switch (t.typeName) {
    case "null":
      return () => [VALUE_KIND.null, null];
    case "boolean":
      return (v) => [VALUE_KIND.bool, v as boolean];
    case "int":
    case "long":
    case "abstract:long":
      return (v) => [VALUE_KIND.int64, BigInt(v as number | bigint)];
    case "float":
    case "double":
      return (v) => [VALUE_KIND.float64, v as number];
    case "string":
    case "enum":
      return (v) => [VALUE_KIND.string, v as string];
    case "fixed":
      if (isUInt64(t)) return (v) => [VALUE_KIND.uint64, (v as Buffer).readBigUInt64BE(0)];
      break;
    case "array": {
      const kind = arrayKind((t as avro.types.ArrayType).itemsType);
      if (kind !== undefined) return (v) => [kind, packArray(kind, v as unknown[])];
      break;
    }
    case "record": {
      const only = (t as avro.types.RecordType).fields;
      if (only.length === 1 && only[0]) {
        const { name, type } = only[0];
        const inner = converterOf(type);
        return (v) => inner((v as Record<string, unknown>)[name]);
      }
      break;
    }
  }
  const what = t.name ?? t.typeName;
  return () => {
    throw new Error(`a value of type ${what} is not a reading value`);
  };
}

function isUInt64(t: avro.Type): boolean {
  const name = t.name ?? "";
  return (name === "UInt64" || name.endsWith(".UInt64")) && (t as avro.types.FixedType).size === 8;
}

function arrayKind(items: avro.Type): 6 | 7 | 8 | 9 | undefined {
  if (isUInt64(items)) return VALUE_KIND.uint64Array;
  switch (items.typeName) {
    case "double":
    case "float":
      return VALUE_KIND.float64Array;
    case "long":
    case "abstract:long":
    case "int":
      return VALUE_KIND.int64Array;
    case "boolean":
      return VALUE_KIND.boolArray;
    default:
      return undefined;
  }
}

/** The record's other fields that are not null, as JSON; null when all are. */
function extraJson(
  r: Record<string, unknown>,
  fields: readonly { name: string; wrapped: boolean }[],
): string | null {
  let out: Record<string, unknown> | undefined;
  for (const { name, wrapped } of fields) {
    const v = plain(wrapped ? unwrap(r[name]) : r[name]);
    if (v === null || v === undefined) continue;
    out ??= {};
    out[name] = v;
  }
  return out ? JSON.stringify(out) : null;
}

/**
 * JSON-safe: bigints (beyond 2^53) as decimal strings, bytes as hex; unions nested in
 * the value keep Avro's JSON form `{ branch: value }`.
 */
function plain(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (Buffer.isBuffer(v)) return v.toString("hex");
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = plain(x);
    return out;
  }
  return v;
}
