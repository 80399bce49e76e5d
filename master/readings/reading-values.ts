import type { ReadingValue } from "./reading.js";

const INT64_MAX = 2n ** 63n - 1n;

/**
 * How to read a reading's value in text formats. 64-bit integers (`int64`, and `uint64`
 * above 2^63-1) are decimal strings in JSON and NDJSON; arrays are typed by their
 * elements. `null` for a value the source did not give (bad quality).
 */
export type ValueType =
  | "double"
  | "int64"
  | "uint64"
  | "bool"
  | "string"
  | "double[]"
  | "int64[]"
  | "uint64[]"
  | "bool[]"
  | "null";

/** A value as JSON takes it (see `ValueType`). */
export type JsonValue = number | string | boolean | null | readonly (number | string | boolean)[];

export function valueType(value: ReadingValue): ValueType {
  if (value === null) return "null";
  if (typeof value === "number") return "double";
  if (typeof value === "bigint") return value > INT64_MAX ? "uint64" : "int64";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "string") return "string";
  const first = value[0];
  if (typeof first === "boolean") return "bool[]";
  if (typeof first === "bigint") {
    return (value as readonly bigint[]).some((v) => v > INT64_MAX) ? "uint64[]" : "int64[]";
  }
  return "double[]";
}

/**
 * The value for JSON: bigints as decimal strings (exact; JSON numbers are read as
 * doubles by most parsers), and the doubles JSON has no number for (NaN, ±Infinity) as
 * the strings `NaN`, `Infinity`, `-Infinity`: never silently null.
 */
export function jsonValue(value: ReadingValue): JsonValue {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "bigint") return value.toString();
  return (value as readonly (number | bigint | boolean)[]).map((v) =>
    typeof v === "bigint"
      ? v.toString()
      : typeof v === "number" && !Number.isFinite(v)
        ? String(v)
        : v,
  );
}

/** The value as one CSV field's text (unquoted): numbers as JS prints them, arrays as JSON. */
export function textValue(value: ReadingValue): string {
  if (value === null) return "";
  if (typeof value === "object") return JSON.stringify(jsonValue(value));
  return String(value);
}

/** JSON's value back into a typed one, by `type` (NDJSON's `value` and `type` fields). */
export function valueFromJson(value: JsonValue, type: ValueType): ReadingValue {
  switch (type) {
    case "int64":
    case "uint64":
      return BigInt(value as string);
    case "double":
      return typeof value === "string" ? Number(value) : (value as number);
    case "int64[]":
    case "uint64[]":
      return (value as readonly string[]).map((v) => BigInt(v));
    case "double[]":
      return (value as readonly (number | string)[]).map(Number);
    default:
      return value as ReadingValue;
  }
}
