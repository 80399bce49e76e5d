import type { ReadingValue } from "./reading.js";

/**
 * How a reading's value is typed, as every store keeps it (a small integer per row).
 * Numeric kinds are those aggregates take: float64, int64, uint64 and bool (as 0/1).
 */
export const VALUE_KIND = {
  null: 0,
  float64: 1,
  int64: 2,
  uint64: 3,
  bool: 4,
  string: 5,
  float64Array: 6,
  int64Array: 7,
  boolArray: 8,
  uint64Array: 9,
} as const;

export type ValueKind = (typeof VALUE_KIND)[keyof typeof VALUE_KIND];

/** The kinds aggregates are computed over. */
export const NUMERIC_KINDS: readonly ValueKind[] = [
  VALUE_KIND.float64,
  VALUE_KIND.int64,
  VALUE_KIND.uint64,
  VALUE_KIND.bool,
];

/**
 * A value in the form stores bind it: float64 a number (NaN included), int64 and uint64 a
 * bigint (uint64 up to 2^64-1), bool a boolean, string a string, arrays packed
 * little-endian (`packArray`), null for no value.
 */
export type StoredValue = number | bigint | boolean | string | Uint8Array | null;

const ITEM_BYTES = {
  [VALUE_KIND.float64Array]: 8,
  [VALUE_KIND.int64Array]: 8,
  [VALUE_KIND.boolArray]: 1,
  [VALUE_KIND.uint64Array]: 8,
};

type ArrayKind = keyof typeof ITEM_BYTES;

/**
 * Arrays as bytes: float64, int64 and uint64 items 8 bytes little-endian each, booleans
 * 1 byte. uint64 items come as bigints or as the producer's 8-byte big-endian fixed.
 */
export function packArray(kind: ArrayKind, items: readonly unknown[]): Buffer {
  const buf = Buffer.allocUnsafe(items.length * ITEM_BYTES[kind]);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (kind === VALUE_KIND.float64Array) buf.writeDoubleLE(item as number, i * 8);
    else if (kind === VALUE_KIND.int64Array) buf.writeBigInt64LE(BigInt(item as bigint), i * 8);
    else if (kind === VALUE_KIND.uint64Array) buf.writeBigUInt64LE(uint64Item(item), i * 8);
    else buf[i] = item ? 1 : 0;
  }
  return buf;
}

function uint64Item(item: unknown): bigint {
  return Buffer.isBuffer(item) ? item.readBigUInt64BE(0) : BigInt(item as bigint);
}

/** A stored value back to the reading's value; a blob of the wrong length is cut to whole items. */
export function readingValue(kind: number, stored: unknown): ReadingValue {
  switch (kind) {
    case VALUE_KIND.float64:
      // SQLite keeps NaN as NULL.
      return stored === null ? Number.NaN : Number(stored);
    case VALUE_KIND.int64:
      return BigInt(stored as bigint);
    case VALUE_KIND.uint64:
      return BigInt.asUintN(64, BigInt(stored as bigint));
    case VALUE_KIND.bool:
      return Number(stored) !== 0;
    case VALUE_KIND.string:
      return String(stored);
    case VALUE_KIND.float64Array:
    case VALUE_KIND.int64Array:
    case VALUE_KIND.boolArray:
    case VALUE_KIND.uint64Array:
      return unpackArray(kind, stored as Uint8Array);
    default:
      return null;
  }
}

function unpackArray(kind: ArrayKind, bytes: Uint8Array): ReadingValue {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Math.floor(buf.length / ITEM_BYTES[kind]);
  if (kind === VALUE_KIND.float64Array)
    return Array.from({ length: n }, (_, i) => buf.readDoubleLE(i * 8));
  if (kind === VALUE_KIND.int64Array)
    return Array.from({ length: n }, (_, i) => buf.readBigInt64LE(i * 8));
  if (kind === VALUE_KIND.uint64Array)
    return Array.from({ length: n }, (_, i) => buf.readBigUInt64LE(i * 8));
  return Array.from({ length: n }, (_, i) => buf[i] === 1);
}
