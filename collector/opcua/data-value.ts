import { DataType, type DataValue, StatusCodes, VariantArrayType } from "node-opcua";
import type { TagValue } from "../record.js";
import type { ArrayValue, Sample, SourceStatus } from "../sample-quality.js";

/**
 * An OPC-UA status code's class, from its two top bits (the specification's rule), and
 * its name unless it is plain Good: node-opcua's name, the info bits after `#`
 * (`GoodClamped`, `Good#Overflow`, `UncertainLastUsableValue#InfoTypeDataValue|LimitLow`).
 */
export function sourceStatus(status: DataValue["statusCode"]): SourceStatus {
  const top = status.value >>> 30;
  const severity = top === 0 ? "good" : top === 1 ? "uncertain" : "bad";
  return status.value === StatusCodes.Good.value ? { severity } : { severity, name: status.name };
}

function int64(pair: [number, number], signed: boolean): bigint {
  const u = (BigInt(pair[0] >>> 0) << 32n) | BigInt(pair[1] >>> 0);
  return signed ? BigInt.asIntN(64, u) : u;
}

function arraySample(dataType: DataType, raw: ArrayLike<unknown>): Sample {
  let items: (() => ArrayValue) | undefined;
  switch (dataType) {
    case DataType.Boolean:
      items = () => Array.from(raw as ArrayLike<boolean>);
      break;
    case DataType.SByte:
    case DataType.Byte:
    case DataType.Int16:
    case DataType.UInt16:
    case DataType.Int32:
    case DataType.UInt32:
    case DataType.Float:
    case DataType.Double:
      items = () => Array.from(raw as ArrayLike<number>);
      break;
    case DataType.Int64:
    case DataType.UInt64: {
      const signed = dataType === DataType.Int64;
      items = () => Array.from(raw as ArrayLike<[number, number]>, (p) => int64(p, signed));
      break;
    }
  }
  if (!items) return { kind: "unsupported", dataType: `${DataType[dataType]}[]` };
  return { kind: "array", length: raw.length, items };
}

/**
 * A DataValue's content as a sample: 64-bit integers (node-opcua's [high, low] pairs)
 * become exact bigints, DateTime an ISO string, LocalizedText its text; one-dimensional
 * arrays of numbers and booleans are arrays. Matrices, structures, ByteStrings and
 * other arrays are unsupported, named by their data type (`ExtensionObject`, `String[]`,
 * `Double[,]`).
 */
export function sampleOf(dv: DataValue): Sample {
  const v = dv.value;
  if (!v || v.dataType === DataType.Null) return { kind: "empty" };
  if (v.arrayType === VariantArrayType.Matrix) {
    return { kind: "unsupported", dataType: `${DataType[v.dataType]}[,]` };
  }
  if (v.arrayType === VariantArrayType.Array) return arraySample(v.dataType, v.value);
  switch (v.dataType) {
    case DataType.Boolean:
    case DataType.String:
    case DataType.SByte:
    case DataType.Byte:
    case DataType.Int16:
    case DataType.UInt16:
    case DataType.Int32:
    case DataType.UInt32:
    case DataType.Float:
    case DataType.Double:
      return { kind: "value", value: v.value as Exclude<TagValue, ArrayValue | null> };
    case DataType.Int64:
    case DataType.UInt64:
      return { kind: "value", value: int64(v.value, v.dataType === DataType.Int64) };
    case DataType.DateTime:
      return { kind: "value", value: (v.value as Date).toISOString() };
    case DataType.LocalizedText: {
      const text = (v.value as { text: string | null }).text;
      return text === null || text === undefined
        ? { kind: "empty" }
        : { kind: "value", value: text };
    }
    default:
      return { kind: "unsupported", dataType: DataType[v.dataType] };
  }
}
