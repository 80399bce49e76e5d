import type * as Arrow from "apache-arrow";
import type { Reading } from "./reading.js";
import { jsonValue, valueType } from "./reading-values.js";

const INT64_MAX = 2n ** 63n - 1n;

/**
 * The columns of an exported Parquet file (master/README.md, "Exports"). A value lands in
 * the one column of its type, the others null: `value_int64` (INT64) holds every 64-bit
 * integer up to 2^63-1, `value_uint64` (INT64, logical type UINT_64) only those above,
 * so each is exact; arrays and `extra` are JSON text (64-bit integers as decimal strings).
 */
export const PARQUET_COLUMNS = [
  "ts",
  "node",
  "stream",
  "device",
  "tag",
  "value_type",
  "value_double",
  "value_int64",
  "value_uint64",
  "value_bool",
  "value_string",
  "value_array",
  "unit",
  "quality",
  "status",
  "seq",
  "extra",
] as const;

/** Columns whose values repeat (names, units, qualities): dictionary-encoded in Arrow. */
const DICTIONARY = [
  "node",
  "stream",
  "device",
  "tag",
  "value_type",
  "unit",
  "quality",
  "status",
] as const;
/** Columns of free text, nearly always null. */
const TEXT = ["value_string", "value_array", "extra"] as const;

type Texts = Record<(typeof DICTIONARY)[number] | (typeof TEXT)[number], (string | null)[]>;

/**
 * One Arrow record batch of readings, filled row by row into typed arrays (what the
 * Parquet writer takes without a per-value conversion), at most `capacity` rows.
 */
export class ParquetBatch {
  length = 0;
  private readonly ts: BigInt64Array;
  private readonly seq: BigInt64Array;
  private readonly double: Float64Array;
  private readonly int64: BigInt64Array;
  private readonly uint64: BigUint64Array;
  private readonly bool: Uint8Array;
  /** One validity bitmap per nullable numeric column. */
  private readonly valid: Record<"double" | "int64" | "uint64" | "bool", Uint8Array>;
  private readonly texts: Texts;

  constructor(
    private readonly arrow: typeof Arrow,
    readonly capacity: number,
  ) {
    this.ts = new BigInt64Array(capacity);
    this.seq = new BigInt64Array(capacity);
    this.double = new Float64Array(capacity);
    this.int64 = new BigInt64Array(capacity);
    this.uint64 = new BigUint64Array(capacity);
    const bytes = Math.ceil(capacity / 8);
    this.bool = new Uint8Array(bytes);
    this.valid = {
      double: new Uint8Array(bytes),
      int64: new Uint8Array(bytes),
      uint64: new Uint8Array(bytes),
      bool: new Uint8Array(bytes),
    };
    this.texts = Object.fromEntries(
      [...DICTIONARY, ...TEXT].map((c) => [c, []]),
    ) as unknown as Texts;
  }

  add(r: Reading): void {
    const i = this.length++;
    const v = r.value;
    this.ts[i] = BigInt(r.ts);
    this.seq[i] = BigInt(r.seq);
    const t = this.texts;
    t.node.push(r.node);
    t.stream.push(r.stream);
    t.device.push(r.device);
    t.tag.push(r.tag);
    t.value_type.push(valueType(v));
    t.unit.push(r.unit ?? null);
    t.quality.push(r.quality);
    t.status.push(r.status ?? null);
    t.value_string.push(typeof v === "string" ? v : null);
    t.value_array.push(Array.isArray(v) ? JSON.stringify(jsonValue(v)) : null);
    t.extra.push(r.extra === undefined ? null : JSON.stringify(r.extra, bigintsAsText));
    if (typeof v === "number") {
      this.double[i] = v;
      setBit(this.valid.double, i);
    } else if (typeof v === "bigint") {
      if (v > INT64_MAX) {
        this.uint64[i] = v;
        setBit(this.valid.uint64, i);
      } else {
        this.int64[i] = v;
        setBit(this.valid.int64, i);
      }
    } else if (typeof v === "boolean") {
      if (v) setBit(this.bool, i);
      setBit(this.valid.bool, i);
    }
  }

  /** The rows so far as an Arrow table, its columns in PARQUET_COLUMNS order. */
  table(): Arrow.Table {
    const a = this.arrow;
    const n = this.length;
    const numeric = (type: Arrow.DataType, data: ArrayLike<unknown>, valid?: Uint8Array) =>
      a.makeVector(
        a.makeData({
          type,
          length: n,
          data: data as never,
          ...(valid ? { nullBitmap: valid, nullCount: n - countBits(valid, n) } : { nullCount: 0 }),
        } as never),
      );
    const columns: Record<string, Arrow.Vector> = {
      ts: numeric(new a.TimestampMillisecond("UTC"), this.ts.subarray(0, n)),
      value_double: numeric(new a.Float64(), this.double.subarray(0, n), this.valid.double),
      value_int64: numeric(new a.Int64(), this.int64.subarray(0, n), this.valid.int64),
      value_uint64: numeric(new a.Uint64(), this.uint64.subarray(0, n), this.valid.uint64),
      value_bool: numeric(new a.Bool(), this.bool, this.valid.bool),
      seq: numeric(new a.Int64(), this.seq.subarray(0, n)),
    };
    for (const c of DICTIONARY) columns[c] = dictionary(a, this.texts[c]);
    for (const c of TEXT) columns[c] = text(a, this.texts[c]);
    return new a.Table(
      Object.fromEntries(PARQUET_COLUMNS.map((c) => [c, columns[c] as Arrow.Vector])),
    );
  }
}

/** Repeated strings as indices into the batch's distinct values (null where absent). */
function dictionary(a: typeof Arrow, values: readonly (string | null)[]): Arrow.Vector {
  const index = new Map<string, number>();
  const indices = new Int32Array(values.length);
  const valid = new Uint8Array(Math.ceil(values.length / 8));
  let nulls = 0;
  values.forEach((v, i) => {
    if (v === null) {
      nulls++;
      return;
    }
    let k = index.get(v);
    if (k === undefined) {
      k = index.size;
      index.set(v, k);
    }
    indices[i] = k;
    setBit(valid, i);
  });
  return a.makeVector(
    a.makeData({
      type: new a.Dictionary(new a.Utf8(), new a.Int32()),
      length: values.length,
      nullCount: nulls,
      nullBitmap: valid,
      data: indices,
      dictionary: a.vectorFromArray([...index.keys()], new a.Utf8()),
    }),
  );
}

/** Free text; a column with no value at all is made without looking at each row. */
function text(a: typeof Arrow, values: readonly (string | null)[]): Arrow.Vector {
  if (values.some((v) => v !== null)) return a.vectorFromArray(values, new a.Utf8());
  return a.makeVector(
    a.makeData({
      type: new a.Utf8(),
      length: values.length,
      nullCount: values.length,
      nullBitmap: new Uint8Array(Math.ceil(values.length / 8)),
      valueOffsets: new Int32Array(values.length + 1),
      data: new Uint8Array(0),
    }),
  );
}

function setBit(bits: Uint8Array, i: number): void {
  bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
}

function countBits(bits: Uint8Array, n: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) if ((bits[i >> 3] as number) & (1 << (i & 7))) count++;
  return count;
}

function bigintsAsText(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
