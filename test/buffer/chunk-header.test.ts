import { strict as assert } from "node:assert";
import { decodeHeader, encodeHeader, MAX_HEADER_BYTES } from "../../buffer/chunk-header.js";

describe("buffer/chunk-header", () => {
  const header = {
    chunkId: 2 ** 36 + 5,
    createdAt: 1_795_000_000_123,
    stream: "alarms",
    schema: Buffer.from([1, 2, 3]),
  };

  it("round-trips every field, including ids above 2^32", () => {
    const buf = encodeHeader(header);
    assert.equal(buf.length, 34 + 6 + 3);
    assert.deepEqual(decodeHeader(buf), { ...header, size: buf.length });
  });

  it("starts with the magic and format version", () => {
    const buf = encodeHeader(header);
    assert.equal(buf.toString("latin1", 0, 8), "OPCHUNK\0");
    assert.equal(buf.readUInt16LE(8), 1);
  });

  it("rejects a header with any single byte changed", () => {
    const buf = encodeHeader(header);
    for (let i = 0; i < buf.length; i++) {
      const bad = Buffer.from(buf);
      bad.writeUInt8(bad.readUInt8(i) ^ 0x10, i);
      assert.equal(decodeHeader(bad), undefined, `byte ${i}`);
    }
  });

  it("rejects a truncated header and an unknown format version", () => {
    const buf = encodeHeader(header);
    assert.equal(decodeHeader(buf.subarray(0, buf.length - 1)), undefined);
    const v2 = Buffer.from(buf);
    v2.writeUInt16LE(2, 8);
    assert.equal(decodeHeader(v2), undefined);
  });

  it("fits the largest header within MAX_HEADER_BYTES", () => {
    const big = encodeHeader({ ...header, stream: "s".repeat(64), schema: Buffer.alloc(255) });
    assert.equal(big.length, MAX_HEADER_BYTES);
  });
});
