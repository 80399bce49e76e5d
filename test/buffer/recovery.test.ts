import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chunkFileName, isIntact, parseChunk } from "../../buffer/chunk-file.js";
import { encodeHeader } from "../../buffer/chunk-header.js";
import { realFileLayer } from "../../buffer/file-layer.js";
import { recoverStream } from "../../buffer/recovery.js";
import { encodeRecords, encodeSeal } from "../../common/record-frame.js";

const records = (first: number, n: number) =>
  Array.from({ length: n }, (_, i) => Buffer.from(`record-${first + i}`));

function chunkBytes(id: number, firstSeq: number, n: number, sealed: boolean): Buffer {
  const parts = [
    encodeHeader({ chunkId: id, createdAt: 1000 + id, stream: "bulk", schema: Buffer.alloc(0) }),
    encodeRecords(records(firstSeq, n), firstSeq),
  ];
  if (sealed) parts.push(encodeSeal(n, firstSeq, firstSeq + n - 1));
  return Buffer.concat(parts);
}

describe("buffer/recovery", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-recovery-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (id: number, buf: Buffer) => writeFileSync(join(dir, chunkFileName(id)), buf);
  const recover = (removed: number[] = []) =>
    recoverStream(realFileLayer, dir, "bulk", new Set(removed), 1 << 20);

  it("takes sealed chunks as they are and continues the sequence after the last one", async () => {
    write(1, chunkBytes(1, 1, 5, true));
    write(2, chunkBytes(2, 6, 5, true));
    const r = await recover();
    assert.deepEqual(
      r.chunks.map((c) => [c.id, c.firstSeq, c.lastSeq, c.records, c.suspect]),
      [
        [1, 1, 5, 5, false],
        [2, 6, 10, 5, false],
      ],
    );
    assert.equal(r.nextSequence, 11);
    assert.equal(r.highestChunkId, 2);
    assert.equal(r.repaired, 0);
  });

  it("cuts a torn newest chunk back to its last intact record and seals it", async () => {
    write(1, chunkBytes(1, 1, 5, true));
    const open = chunkBytes(2, 6, 4, false);
    write(2, Buffer.concat([open, Buffer.from([0xb7, 0x1c, 1, 0, 9, 0])]));
    const r = await recover();
    assert.equal(r.repaired, 1);
    assert.deepEqual(
      r.chunks[1] && [r.chunks[1].firstSeq, r.chunks[1].lastSeq, r.chunks[1].records],
      [6, 9, 4],
    );
    const parsed = parseChunk(readFileSync(join(dir, chunkFileName(2))), 1 << 20);
    assert.ok(isIntact(parsed));
    assert.equal(r.nextSequence, 10);
  });

  it("removes a newest chunk that never got a record, and leftovers of delivered chunks and temp files", async () => {
    write(1, chunkBytes(1, 1, 2, true));
    write(2, chunkBytes(2, 3, 2, true));
    writeFileSync(join(dir, `${chunkFileName(2)}.tmp`), "half a salvage");
    write(
      3,
      encodeHeader({ chunkId: 3, createdAt: 1, stream: "bulk", schema: Buffer.alloc(0) }).subarray(
        0,
        10,
      ),
    );
    const r = await recover([1]);
    assert.deepEqual(
      r.chunks.map((c) => c.id),
      [2],
    );
    assert.equal(existsSync(join(dir, chunkFileName(1))), false);
    assert.equal(existsSync(join(dir, chunkFileName(3))), false);
    assert.equal(existsSync(join(dir, `${chunkFileName(2)}.tmp`)), false);
  });

  it("marks an older chunk with a damaged trailer suspect instead of failing", async () => {
    const damaged = chunkBytes(1, 1, 5, true);
    damaged.writeUInt8(damaged.readUInt8(damaged.length - 3) ^ 1, damaged.length - 3);
    write(1, damaged);
    write(2, chunkBytes(2, 6, 5, true));
    const r = await recover();
    assert.deepEqual(
      r.chunks.map((c) => [c.id, c.suspect, c.records]),
      [
        [1, true, 5],
        [2, false, 5],
      ],
    );
  });
});
