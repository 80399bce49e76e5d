import { strict as assert } from "node:assert";
import { STREAM_DEFAULTS, type StreamConfig } from "../../buffer/config.js";
import { GroupCommit, type PendingAppend } from "../../buffer/group-commit.js";

function entry(bytes = 10): PendingAppend & { done: Promise<unknown> } {
  let resolve!: (v: unknown) => void;
  let reject!: (e: unknown) => void;
  const done = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { records: [Buffer.alloc(1)], bytes, schema: Buffer.alloc(0), resolve, reject, done };
}

function recorder(config: Partial<StreamConfig>, delayMs = 0) {
  const batches: number[] = [];
  const commit = new GroupCommit({ ...STREAM_DEFAULTS, ...config }, async (batch) => {
    batches.push(batch.length);
    await new Promise((r) => setTimeout(r, delayMs));
    for (const e of batch) e.resolve({ firstSeq: 1, lastSeq: 1 });
  });
  return { commit, batches };
}

describe("buffer/group-commit", () => {
  it("commits every append of one event-loop turn together under `always`", async () => {
    const { commit, batches } = recorder({ fsync: "always" });
    const entries = Array.from({ length: 5 }, () => entry());
    for (const e of entries) commit.add(e);
    await Promise.all(entries.map((e) => e.done));
    assert.deepEqual(batches, [5]);
  });

  it("makes appends that arrive during a commit share the next one", async () => {
    const { commit, batches } = recorder({ fsync: "always" }, 30);
    const first = entry();
    commit.add(first);
    await new Promise((r) => setTimeout(r, 5));
    const later = Array.from({ length: 4 }, () => entry());
    for (const e of later) commit.add(e);
    await Promise.all([first, ...later].map((e) => e.done));
    assert.deepEqual(batches, [1, 4]);
  });

  it("waits batchMs under `batch`, or commits at once when batchBytes wait", async () => {
    const { commit, batches } = recorder({ fsync: "batch", batchMs: 40, batchBytes: 100 });
    const started = Date.now();
    const small = entry(10);
    commit.add(small);
    await small.done;
    assert.ok(Date.now() - started >= 35, "committed before batchMs");
    const big = [entry(60), entry(60)];
    const bigStart = Date.now();
    for (const e of big) commit.add(e);
    await Promise.all(big.map((e) => e.done));
    assert.ok(Date.now() - bigStart < 35, "waited although batchBytes were reached");
    assert.deepEqual(batches, [1, 2]);
  });

  it("rejects every entry of a commit that throws", async () => {
    const commit = new GroupCommit({ ...STREAM_DEFAULTS, fsync: "always" }, async () => {
      throw new Error("disk on fire");
    });
    const entries = [entry(), entry()];
    for (const e of entries) commit.add(e);
    for (const e of entries) await assert.rejects(e.done, /disk on fire/);
  });

  it("drains everything waiting", async () => {
    const { commit, batches } = recorder({ fsync: "batch", batchMs: 60_000 });
    const e = entry();
    commit.add(e);
    await commit.drain();
    await e.done;
    assert.deepEqual(batches, [1]);
    commit.stop();
  });
});
