import { strict as assert } from "node:assert";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskBuffer } from "../../buffer/buffer.js";
import { isIntact, parseChunk } from "../../buffer/chunk-file.js";

describe("buffer/corrupt-chunk", () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-corrupt-"));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it("rewrites a damaged chunk with its intact records under the same id and counts the lost range once", async () => {
    const dir = join(work, "b");
    let buffer = await DiskBuffer.open({ dir, defaults: { fsync: "never" } });
    await buffer.append(
      "a",
      Array.from({ length: 10 }, (_, i) => Buffer.from(`record-${i}`)),
    );
    await buffer.close();
    const path = join(dir, "streams", "a", readdirSync(join(dir, "streams", "a"))[0] as string);
    const bytes = readFileSync(path);
    const victim = parseChunk(bytes, 1 << 20).scan.records[4];
    assert.ok(victim);
    bytes.writeUInt8(bytes.readUInt8(victim.payloadStart) ^ 1, victim.payloadStart);
    writeFileSync(path, bytes);

    buffer = await DiskBuffer.open({ dir });
    const ref = buffer.nextToSend();
    assert.ok(ref);
    const loaded = await buffer.load(ref);
    assert.equal(loaded?.ref.id, ref.id);
    assert.equal(ref.records, 9);
    const salvaged = parseChunk(readFileSync(path), 1 << 20);
    assert.ok(isIntact(salvaged));
    assert.deepEqual(
      salvaged.scan.records.map((f) => f.seq),
      [1, 2, 3, 4, 6, 7, 8, 9, 10],
    );
    // Reading it again finds nothing to quarantine and counts nothing twice.
    await buffer.load(ref);
    const m = buffer.metrics();
    assert.equal(m.corruptChunks, 1);
    assert.equal(m.lostRecords, 1);
    assert.deepEqual(
      buffer.takeLosses().map((l) => [l.reason, l.fromSeq, l.toSeq]),
      [["corrupt", 5, 5]],
    );
    await buffer.close();
  });
});
