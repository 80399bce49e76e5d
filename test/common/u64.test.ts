import { strict as assert } from "node:assert";
import { readU64, writeU64 } from "../../common/u64.js";

describe("common/u64", () => {
  it("round-trips values up to 2^53 - 1 in little-endian order", () => {
    const buf = Buffer.alloc(8);
    for (const v of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]) {
      writeU64(buf, v, 0);
      assert.equal(readU64(buf, 0), v);
      assert.equal(buf.readBigUInt64LE(0), BigInt(v));
    }
  });
});
