import avro from "avsc";

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Avro `long` for decoding at the master: a number when exact in a double (time stamps,
 * most counters: no BigInt allocated on the hot path), else a bigint, so 64-bit values
 * stay exact. It reads the zigzag varint itself (`noUnpack`); a varint over 10 bytes
 * throws, failing the chunk's decode, not the master.
 */
export const exactLong = avro.types.LongType.__with(
  {
    fromBuffer: (varint: Buffer): number | bigint => {
      if (varint.length > 10) throw new RangeError(`long varint of ${varint.length} bytes`);
      if (varint.length <= 7) {
        // 49 bits at most: exact in a double.
        let n = 0;
        let scale = 1;
        for (const byte of varint) {
          n += (byte & 0x7f) * scale;
          scale *= 128;
        }
        return n % 2 === 1 ? -(n + 1) / 2 : n / 2;
      }
      let u = 0n;
      for (let i = varint.length - 1; i >= 0; i--)
        u = (u << 7n) | BigInt((varint[i] as number) & 0x7f);
      const v = BigInt.asIntN(64, (u >> 1n) ^ -(u & 1n));
      return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
    },
    toBuffer: (value: number | bigint): Buffer => {
      const v = BigInt(value);
      let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
      const bytes: number[] = [];
      do {
        const low = Number(u & 0x7fn);
        u >>= 7n;
        bytes.push(u > 0n ? low | 0x80 : low);
      } while (u > 0n);
      return Buffer.from(bytes);
    },
    fromJSON: (v: unknown) => (typeof v === "string" ? BigInt(v) : (v as number)),
    toJSON: (v: number | bigint) => (typeof v === "bigint" ? v.toString() : v),
    isValid: (v: unknown) =>
      (typeof v === "number" && Number.isSafeInteger(v)) ||
      (typeof v === "bigint" && BigInt.asIntN(64, v) === v),
    compare: (a: number | bigint, b: number | bigint) => (a < b ? -1 : a > b ? 1 : 0),
  },
  true,
);
