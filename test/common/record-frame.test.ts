import { strict as assert } from "node:assert";
import {
  encodeRecords,
  encodeSeal,
  FRAME_OVERHEAD,
  frameAt,
  readSeal,
  SEAL_FRAME_BYTES,
  scanFrames,
} from "../../common/record-frame.js";

const records = ["alpha", "", "gamma-γ", "x".repeat(300)].map((s) => Buffer.from(s));

describe("common/record-frame", () => {
  it("frames records with consecutive sequence numbers and reads them back intact", () => {
    const buf = encodeRecords(records, 41);
    assert.equal(
      buf.length,
      records.reduce((n, r) => n + FRAME_OVERHEAD + r.length, 0),
    );
    const scan = scanFrames(buf, 0, 1 << 20);
    assert.deepEqual(
      scan.records.map((f) => [f.seq, buf.toString("utf8", f.payloadStart, f.payloadEnd)]),
      records.map((r, i) => [41 + i, r.toString()]),
    );
    assert.deepEqual(scan.damaged, []);
    assert.equal(scan.validEnd, buf.length);
  });

  it("keeps sequence numbers above 2^32 exact", () => {
    const seq = 2 ** 40 + 7;
    const buf = encodeRecords([Buffer.from("a")], seq);
    assert.equal(frameAt(buf, 0, 100)?.seq, seq);
  });

  it("rejects a frame with one flipped bit and resynchronises on the next intact frame", () => {
    const buf = encodeRecords(records, 1);
    const second = scanFrames(buf, 0, 1 << 20).records[1];
    assert.ok(second);
    const damaged = Buffer.from(buf);
    const at = FRAME_OVERHEAD + (records[0] as Buffer).length - 3;
    damaged.writeUInt8(damaged.readUInt8(at) ^ 0x01, at);
    const scan = scanFrames(damaged, 0, 1 << 20);
    assert.deepEqual(
      scan.records.map((f) => f.seq),
      [2, 3, 4],
    );
    assert.deepEqual(scan.damaged, [{ offset: 0, length: second.start }]);
  });

  it("treats a torn tail as the end of the valid data, not as damage", () => {
    const buf = encodeRecords(records, 1);
    const torn = buf.subarray(0, buf.length - 5);
    const scan = scanFrames(torn, 0, 1 << 20);
    assert.equal(scan.records.length, 3);
    assert.deepEqual(scan.damaged, []);
    assert.equal(scan.validEnd, buf.length - (FRAME_OVERHEAD + 300));
  });

  it("refuses a frame whose length exceeds the payload limit", () => {
    const buf = encodeRecords([Buffer.alloc(64)], 1);
    assert.equal(frameAt(buf, 0, 63), undefined);
    assert.ok(frameAt(buf, 0, 64));
  });

  it("encodes a seal trailer with count and sequence range", () => {
    const seal = encodeSeal(3, 10, 12);
    assert.equal(seal.length, SEAL_FRAME_BYTES);
    const frame = frameAt(seal, 0, 1 << 20);
    assert.ok(frame);
    assert.deepEqual(readSeal(seal, frame), { count: 3, firstSeq: 10, lastSeq: 12 });
    const scan = scanFrames(
      Buffer.concat([encodeRecords(records.slice(0, 3), 10), seal]),
      0,
      1 << 20,
    );
    assert.deepEqual(scan.seal, { count: 3, firstSeq: 10, lastSeq: 12 });
    assert.equal(scan.records.length, 3);
  });
});
