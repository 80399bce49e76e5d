import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { crc32c } from "@node-rs/crc32";
import { crc32cRange, JS_MAX_BYTES } from "../../common/crc32c.js";

describe("common/crc32c", () => {
  it("gives the CRC32C check value for '123456789'", () => {
    const buf = Buffer.from("123456789");
    assert.equal(crc32cRange(buf, 0, buf.length), 0xe3069283);
  });

  it("matches @node-rs/crc32 for every length on both sides of the JS/native switch and any offset", () => {
    const data = randomBytes(4 * JS_MAX_BYTES + 64);
    for (let length = 0; length <= 2 * JS_MAX_BYTES + 9; length++) {
      for (const start of [0, 1, 3, 7, 13]) {
        const end = start + length;
        assert.equal(
          crc32cRange(data, start, end),
          crc32c(data.subarray(start, end)),
          `length ${length} at offset ${start}`,
        );
      }
    }
  });

  it("changes when any single bit of a small range flips", () => {
    const data = randomBytes(120);
    const good = crc32cRange(data, 0, data.length);
    for (let bit = 0; bit < data.length * 8; bit++) {
      const flipped = Buffer.from(data);
      flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
      assert.notEqual(crc32cRange(flipped, 0, flipped.length), good, `bit ${bit}`);
    }
  });
});
