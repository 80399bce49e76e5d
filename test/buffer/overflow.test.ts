import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskBuffer } from "../../buffer/buffer.js";
import { BufferFullError } from "../../buffer/errors.js";

describe("buffer/overflow", () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-overflow-"));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const open = (overflow: "block" | "reject" | "drop_oldest", blockTimeoutMs = 100) =>
    DiskBuffer.open({
      dir: join(work, overflow),
      maxBytes: 2048,
      defaults: { overflow, blockTimeoutMs, sealBytes: 512, fsync: "never" },
    });

  async function fill(buffer: DiskBuffer): Promise<unknown> {
    for (let i = 0; i < 100; i++) {
      try {
        await buffer.append("a", [Buffer.alloc(100)]);
      } catch (err) {
        return err;
      }
    }
    return undefined;
  }

  it("reject: fails at once with BufferFullError (reason limit) naming the budget", async () => {
    const buffer = await open("reject");
    const err = await fill(buffer);
    assert.ok(err instanceof BufferFullError);
    assert.equal(err.reason, "limit");
    assert.match(err.message, /buffer full for stream 'a' \(\d+ of 2048 bytes/);
    assert.ok(buffer.usage.bytes <= 2048);
    await buffer.close();
  });

  it("block: waits blockTimeoutMs, then fails; and goes ahead as soon as room is freed", async () => {
    const buffer = await open("block", 150);
    const started = Date.now();
    assert.ok((await fill(buffer)) instanceof BufferFullError);
    assert.ok(Date.now() - started >= 140);
    await buffer.sealAll();
    const waiting = buffer.append("a", [Buffer.alloc(100)]);
    const ref = buffer.nextToSend();
    assert.ok(ref);
    await buffer.acknowledge(ref);
    assert.ok((await waiting).firstSeq > 0);
    await buffer.close();
  });

  it("drop_oldest: makes room by dropping whole chunks, each counted", async () => {
    const buffer = await open("drop_oldest");
    assert.equal(await fill(buffer), undefined);
    const m = buffer.metrics();
    assert.ok(m.droppedChunks > 0);
    assert.equal(m.droppedRecords + m.backlogRecords, 100);
    assert.equal(m.pendingLossEvents, 1);
    const [loss] = buffer.takeLosses();
    assert.deepEqual(loss && [loss.reason, loss.fromSeq, loss.toSeq, loss.records], [
      "overflow",
      1,
      m.droppedRecords,
      m.droppedRecords,
    ]);
    await buffer.close();
  });
});
