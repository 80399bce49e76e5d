import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CheckpointStore,
  decodeSlot,
  emptyCheckpoint,
  encodeSlot,
  readCheckpoint,
  SLOT_BYTES,
} from "../../buffer/checkpoint.js";
import { realFileLayer } from "../../buffer/file-layer.js";

describe("buffer/checkpoint", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-checkpoint-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const withChunkId = (nextChunkId: number) => ({ ...emptyCheckpoint(), nextChunkId });

  it("round-trips a slot and refuses it with any byte changed", () => {
    const buf = encodeSlot(withChunkId(42), 7);
    assert.deepEqual(decodeSlot(buf), { generation: 7, data: withChunkId(42) });
    for (const at of [0, 5, 9, 20, buf.length - 1]) {
      const bad = Buffer.from(buf);
      bad.writeUInt8(bad.readUInt8(at) ^ 1, at);
      assert.equal(decodeSlot(bad), undefined, `byte ${at}`);
    }
  });

  it("says missing for a new directory and for slots that were never written", async () => {
    assert.deepEqual(await readCheckpoint(realFileLayer, dir), { state: "missing" });
    writeFileSync(join(dir, "checkpoint.0"), Buffer.alloc(SLOT_BYTES));
    writeFileSync(join(dir, "checkpoint.1"), Buffer.alloc(SLOT_BYTES));
    assert.deepEqual(await readCheckpoint(realFileLayer, dir), { state: "missing" });
  });

  it("says damaged when slots hold bytes but none checks out", async () => {
    writeFileSync(join(dir, "checkpoint.0"), Buffer.from("garbage"));
    assert.deepEqual(await readCheckpoint(realFileLayer, dir), { state: "damaged" });
  });

  it("writes the slots alternately, preallocated, and reads back the newest", async () => {
    let data = withChunkId(1);
    const store = new CheckpointStore(realFileLayer, dir, 0, () => data);
    await store.prepare();
    assert.equal(statSync(join(dir, "checkpoint.0")).size, SLOT_BYTES);
    assert.equal(statSync(join(dir, "checkpoint.1")).size, SLOT_BYTES);
    for (let n = 2; n <= 5; n++) {
      data = withChunkId(n);
      await store.request();
    }
    await store.close();
    const read = await readCheckpoint(realFileLayer, dir);
    assert.equal(read.state, "ok");
    assert.equal(read.state === "ok" && read.data.nextChunkId, 5);
    assert.equal(read.state === "ok" && read.generation, 4);
    assert.equal(statSync(join(dir, "checkpoint.0")).size, SLOT_BYTES);
  });

  it("falls back to the previous checkpoint when the newest slot is torn", async () => {
    let data = withChunkId(10);
    const store = new CheckpointStore(realFileLayer, dir, 0, () => data);
    await store.prepare();
    await store.request();
    data = withChunkId(11);
    await store.request();
    await store.close();
    // Generation 2 went to checkpoint.0; tear it in the middle.
    const slot = readFileSync(join(dir, "checkpoint.0"));
    slot.fill(0, 30, 60);
    writeFileSync(join(dir, "checkpoint.0"), slot);
    const read = await readCheckpoint(realFileLayer, dir);
    assert.equal(read.state === "ok" && read.data.nextChunkId, 10);
  });

  it("lets requests made during a write share the next write", async () => {
    let snapshots = 0;
    const store = new CheckpointStore(realFileLayer, dir, 0, () => {
      snapshots++;
      return emptyCheckpoint();
    });
    await store.prepare();
    await Promise.all(Array.from({ length: 20 }, () => store.request()));
    await store.close();
    assert.ok(snapshots <= 2, `${snapshots} writes for 20 requests`);
  });
});
