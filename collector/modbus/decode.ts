import type { ModbusTag, WordOrder } from "../config.js";

/**
 * Registers → bytes in ABCD (big-endian) order. Each register arrives as two bytes
 * [hi lo]; BADC and DCBA swap the bytes inside each register, CDAB and DCBA reverse the
 * order of the registers (for 64-bit values: GHEFCDAB and HGFEDCBA).
 */
export function orderedBytes(registers: readonly number[], order: WordOrder): Buffer {
  const swapBytes = order === "BADC" || order === "DCBA";
  const reverseWords = order === "CDAB" || order === "DCBA";
  const words = reverseWords ? [...registers].reverse() : registers;
  const buf = Buffer.alloc(words.length * 2);
  words.forEach((w, i) => {
    buf[i * 2] = swapBytes ? w & 0xff : (w >> 8) & 0xff;
    buf[i * 2 + 1] = swapBytes ? (w >> 8) & 0xff : w & 0xff;
  });
  return buf;
}

/** The inverse of `orderedBytes`: value bytes (ABCD…) → registers as the device holds them. */
export function registersFromBytes(bytes: Buffer, order: WordOrder): number[] {
  const swapBytes = order === "BADC" || order === "DCBA";
  const reverseWords = order === "CDAB" || order === "DCBA";
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) {
    const hi = bytes[i] ?? 0;
    const lo = bytes[i + 1] ?? 0;
    words.push(swapBytes ? (lo << 8) | hi : (hi << 8) | lo);
  }
  return reverseWords ? words.reverse() : words;
}

/** A tag's raw value from its registers, before scale and offset; 64-bit integers as bigint. */
export function decodeRegisters(
  registers: readonly number[],
  tag: Pick<ModbusTag, "type" | "order">,
): number | bigint | string {
  const b = orderedBytes(registers, tag.order);
  switch (tag.type) {
    case "int16":
      return b.readInt16BE(0);
    case "uint16":
      return b.readUInt16BE(0);
    case "int32":
      return b.readInt32BE(0);
    case "uint32":
      return b.readUInt32BE(0);
    case "float32":
      return b.readFloatBE(0);
    case "int64":
      return b.readBigInt64BE(0);
    case "uint64":
      return b.readBigUInt64BE(0);
    case "float64":
      return b.readDoubleBE(0);
    case "string": {
      const end = b.indexOf(0);
      return b.subarray(0, end === -1 ? b.length : end).toString("latin1");
    }
    default:
      throw new TypeError(`type ${tag.type} is not held in registers`);
  }
}

/** Registers → the tag's value: raw value × scale + offset (only numbers below 2^53 scale). */
export function tagValue(
  registers: readonly number[],
  tag: Pick<ModbusTag, "type" | "order" | "scale" | "offset">,
): number | bigint | string {
  const raw = decodeRegisters(registers, tag);
  if (typeof raw !== "number" || (tag.scale === undefined && tag.offset === undefined)) return raw;
  return raw * (tag.scale ?? 1) + (tag.offset ?? 0);
}
