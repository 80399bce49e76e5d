import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskBuffer } from "../../buffer/buffer.js";

describe("buffer/send-queue", () => {
  let work: string;
  let dir: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-sendqueue-"));
    dir = join(work, "buf");
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it("sends the highest-priority stream first and each stream in chunk order", async () => {
    const buffer = await DiskBuffer.open({
      dir,
      defaults: { sealBytes: 64, fsync: "never" },
      streams: { alarms: { priority: 5 } },
    });
    for (let i = 0; i < 3; i++) await buffer.append("bulk", [Buffer.from(`bulk-${i}`.padEnd(40))]);
    for (let i = 0; i < 2; i++)
      await buffer.append("alarms", [Buffer.from(`alarm-${i}`.padEnd(40))]);
    await buffer.sealAll();
    const order: string[] = [];
    for (let ref = buffer.nextToSend(); ref; ref = buffer.nextToSend())
      order.push(`${ref.stream}:${ref.firstSeq}`);
    assert.deepEqual(order, ["alarms:1", "alarms:2", "bulk:1", "bulk:2", "bulk:3"]);
    await buffer.close();
  });

  it("reads a chunk for sending as its record frames with the schema from its header", async () => {
    const buffer = await DiskBuffer.open({ dir });
    await buffer.append("a", [Buffer.from("one"), Buffer.from("two")], {
      schema: Buffer.from("fp"),
    });
    await buffer.sealAll();
    const ref = buffer.nextToSend();
    assert.ok(ref);
    const loaded = await buffer.load(ref);
    assert.equal(loaded?.schema.toString(), "fp");
    assert.equal(loaded?.frames.length, 2 * 20 + 6);
    buffer.requeue(ref);
    assert.equal(buffer.nextToSend(), ref);
    assert.equal(buffer.metrics().retries, 1);
    await buffer.close();
  });
});
