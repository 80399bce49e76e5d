import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isIntact, parseChunk } from "../../buffer/chunk-file.js";
import { ChunkWriter } from "../../buffer/chunk-writer.js";
import { realFileLayer } from "../../buffer/file-layer.js";
import { encodeRecords } from "../../buffer/record-frame.js";

describe("buffer/chunk-writer", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-writer-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes a header, appends records and seals into an intact chunk", async () => {
    const w = await ChunkWriter.create(realFileLayer, dir, "bulk", 3, Buffer.from("schema"));
    await w.write(encodeRecords([Buffer.from("a"), Buffer.from("b")], 10), 2, 10);
    await w.sync();
    await w.write(encodeRecords([Buffer.from("c")], 12), 1, 12);
    await w.seal();
    const parsed = parseChunk(readFileSync(w.path), 1 << 20);
    assert.ok(isIntact(parsed));
    assert.deepEqual(parsed.scan.seal, { count: 3, firstSeq: 10, lastSeq: 12 });
    assert.equal(parsed.header?.schema.toString(), "schema");
  });

  it("rolls back to where it stood before records whose sync failed", async () => {
    const w = await ChunkWriter.create(realFileLayer, dir, "bulk", 4, Buffer.alloc(0));
    await w.write(encodeRecords([Buffer.from("kept")], 1), 1, 1);
    const size = w.bytes;
    await w.write(encodeRecords([Buffer.from("gone")], 2), 1, 2);
    await w.rollback(size, 1, 1);
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
