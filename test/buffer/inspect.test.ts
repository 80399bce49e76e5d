import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskBuffer } from "../../buffer/buffer.js";
import { readUndelivered, statBuffer } from "../../buffer/inspect.js";

describe("buffer/inspect", () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), "outpost-inspect-")), "buf");
  });
  afterEach(() => rmSync(join(dir, ".."), { recursive: true, force: true }));

  it("lists undelivered records in append order and skips delivered chunks", async () => {
    // Chunks seal by size only: a 1 s age seal on a loaded box would split them differently.
    const buffer = await DiskBuffer.open({
      dir,
      defaults: { fsync: "never", sealBytes: 64, sealAgeMs: 600_000 },
    });
    for (let i = 0; i < 6; i++) await buffer.append(i % 2 ? "b" : "a", [Buffer.from(`r${i}`)]);
    await buffer.sealAll();
    const first = buffer.nextToSend();
    assert.ok(first);
    await buffer.acknowledge(first);
    await buffer.close();
    const seen: string[] = [];
    for await (const r of readUndelivered(dir)) seen.push(`${r.stream}:${r.seq}:${r.payload}`);
    // Two records per chunk; the first chunk (a's r0 and r2) was delivered.
    assert.deepEqual(first && [first.stream, first.records], ["a", 2]);
    assert.deepEqual(seen, ["b:1:r1", "b:2:r3", "a:3:r4", "b:3:r5"]);
    const onlyB: string[] = [];
    for await (const r of readUndelivered(dir, { stream: "b" })) onlyB.push(r.payload.toString());
    assert.deepEqual(onlyB, ["r1", "r3", "r5"]);
  });

  it("reports backlog and counters from the files without opening the buffer", async () => {
    const buffer = await DiskBuffer.open({ dir, defaults: { fsync: "never" } });
    await buffer.append("a", [Buffer.from("x"), Buffer.from("y")]);
    await buffer.close();
    const stat = await statBuffer(dir);
    assert.equal(stat.backlogRecords, 2);
    assert.equal(stat.backlogChunks, 1);
    assert.equal(stat.streams.a?.backlogRecords, 2);
    assert.equal(stat.checkpoint, "ok");
    assert.equal(stat.corruptChunks, 0);
    assert.ok(stat.backlogBytes > 0);
  });
});
