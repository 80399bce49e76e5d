import { DataType, type DataValue, StatusCodes, VariantArrayType } from "node-opcua";
import { Quality } from "../quality.js";
import type { TagValue } from "../record.js";

/** An OPC-UA status code as a quality: `good`, or the status code's standard name. */
export function qualityOfStatus(status: DataValue["statusCode"]): string {
  return status.value === StatusCodes.Good.value ? Quality.good : status.name;
}

/**
 * A DataValue's scalar as a record value: 64-bit integers (node-opcua's [high, low]
 * pairs) become exact bigints, DateTime an ISO string, LocalizedText its text.
 * Arrays and structures are not tag values: `undefined`.
 */
export function tagValueOf(dv: DataValue): TagValue | undefined {
  const v = dv.value;
  if (!v || v.dataType === DataType.Null) return null;
  if (v.arrayType !== VariantArrayType.Scalar) return undefined;
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
      return v.value as TagValue;
    case DataType.Int64:
    case DataType.UInt64: {
      const [high, low] = v.value as [number, number];
      const u = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
      return v.dataType === DataType.Int64 ? BigInt.asIntN(64, u) : u;
    }
    case DataType.DateTime:
      return (v.value as Date).toISOString();
    case DataType.LocalizedText:
      return (v.value as { text: string | null }).text ?? null;
    default:
      return undefined;
  }
}
