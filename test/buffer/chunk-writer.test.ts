import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isIntact, parseChunk } from "../../buffer/chunk-file.js";
import { ChunkWriter } from "../../buffer/chunk-writer.js";
import { realFileLayer } from "../../buffer/file-layer.js";
import { FRAME_OVERHEAD, SEAL_FRAME_BYTES } from "../../common/record-frame.js";

describe("buffer/chunk-writer", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-writer-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes a header, appends records and seals into an intact chunk", async () => {
    const w = await ChunkWriter.create(realFileLayer, dir, "bulk", 3, Buffer.from("schema"));
    await w.write([Buffer.from("a"), Buffer.from("b")], 10);
    await w.sync();
    await w.write([Buffer.from("c")], 12);
    await w.seal();
    const parsed = parseChunk(readFileSync(w.path), 1 << 20);
    assert.ok(isIntact(parsed));
    assert.deepEqual(parsed.scan.seal, { count: 3, firstSeq: 10, lastSeq: 12 });
    assert.equal(parsed.header?.schema.toString(), "schema");
  });

  it("rolls back to where it stood before records whose sync failed", async () => {
    const w = await ChunkWriter.create(realFileLayer, dir, "bulk", 4, Buffer.alloc(0));
    await w.write([Buffer.from("kept")], 1);
    const size = w.bytes;
    await w.write([Buffer.from("gone")], 2);
    await w.rollback(size, 1, 1);
    await w.seal();
    const parsed = parseChunk(readFileSync(w.path), 1 << 20);
    assert.ok(isIntact(parsed));
    assert.deepEqual(parsed.scan.seal, { count: 1, firstSeq: 1, lastSeq: 1 });
  });

  it("writes records and the seal trailer in one write, the trailer counting the whole chunk", async () => {
    const w = await ChunkWriter.create(realFileLayer, dir, "bulk", 6, Buffer.alloc(0));
    await w.write([Buffer.from("a"), Buffer.from("b")], 20);
    const before = w.bytes;
    await w.write([Buffer.from("c"), Buffer.from("d")], 22, true);
    await w.sync();
    await w.close();
    const file = readFileSync(w.path);
    assert.equal(file.length, before + 2 * (FRAME_OVERHEAD + 1) + SEAL_FRAME_BYTES);
    const parsed = parseChunk(file, 1 << 20);
    assert.ok(isIntact(parsed));
    assert.deepEqual(parsed.scan.seal, { count: 4, firstSeq: 20, lastSeq: 23 });
    assert.deepEqual(
      parsed.scan.records.map((f) => f.seq),
      [20, 21, 22, 23],
    );
  });

  it("rolls a sealing write back with its trailer, leaving the chunk open to seal later", async () => {
    const w = await ChunkWriter.create(realFileLayer, dir, "bulk", 7, Buffer.alloc(0));
    await w.write([Buffer.from("kept")], 1);
    const size = w.bytes;
    await w.write([Buffer.from("gone")], 2, true);
    await w.rollback(size, 1, 1);
    assert.equal(readFileSync(w.path).length, size);
    await w.seal();
    const parsed = parseChunk(readFileSync(w.path), 1 << 20);
    assert.ok(isIntact(parsed));
    assert.deepEqual(parsed.scan.seal, { count: 1, firstSeq: 1, lastSeq: 1 });
  });

  it("discards a chunk that never got a record", async () => {
    const w = await ChunkWriter.create(realFileLayer, dir, "bulk", 5, Buffer.alloc(0));
    await w.discard();
    assert.equal(existsSync(w.path), false);
  });
});
