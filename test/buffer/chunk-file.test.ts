import { strict as assert } from "node:assert";
import {
  chunkFileName,
  isIntact,
  parseChunk,
  parseChunkFileName,
} from "../../buffer/chunk-file.js";
import { encodeHeader } from "../../buffer/chunk-header.js";
import { encodeRecords, encodeSeal } from "../../common/record-frame.js";

function chunk(sealed: boolean): Buffer {
  const parts = [
    encodeHeader({ chunkId: 9, createdAt: 1000, stream: "bulk", schema: Buffer.alloc(0) }),
    encodeRecords([Buffer.from("a"), Buffer.from("bb"), Buffer.from("ccc")], 5),
  ];
  if (sealed) parts.push(encodeSeal(3, 5, 7));
  return Buffer.concat(parts);
}

describe("buffer/chunk-file", () => {
  it("names files by id in fixed-width hex so a listing sorts in id order", () => {
    assert.equal(chunkFileName(255), "00000000000000ff.chunk");
    assert.equal(parseChunkFileName("00000000000000ff.chunk"), 255);
    assert.equal(parseChunkFileName("00000000000000ff.chunk.tmp"), undefined);
    assert.equal(parseChunkFileName("lock"), undefined);
    const names = [300, 2, 17].map(chunkFileName).sort();
    assert.deepEqual(names.map(parseChunkFileName), [2, 17, 300]);
  });

  it("calls a sealed, undamaged chunk intact", () => {
    const parsed = parseChunk(chunk(true), 1 << 20);
    assert.equal(parsed.header?.chunkId, 9);
    assert.equal(parsed.scan.records.length, 3);
    assert.ok(isIntact(parsed));
  });

  it("does not call an unsealed chunk intact", () => {
    assert.equal(isIntact(parseChunk(chunk(false), 1 << 20)), false);
  });

  it("reports a damaged header as damage before the first record and keeps the records", () => {
    const buf = chunk(true);
    buf.writeUInt8(buf.readUInt8(3) ^ 0xff, 3);
    const parsed = parseChunk(buf, 1 << 20);
    assert.equal(parsed.header, undefined);
    assert.equal(parsed.scan.records.length, 3);
    assert.equal(parsed.scan.damaged[0]?.offset, 0);
    assert.equal(isIntact(parsed), false);
  });

  it("does not call a chunk intact when the trailer disagrees with the records", () => {
    const buf = Buffer.concat([chunk(false), encodeSeal(4, 5, 8)]);
    assert.equal(isIntact(parseChunk(buf, 1 << 20)), false);
  });
});
