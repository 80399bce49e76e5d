import { strict as assert } from "node:assert";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskBuffer } from "../../buffer/buffer.js";
import { type FollowedRecord, followStream } from "../../buffer/follow.js";

const SCHEMA = Buffer.from("fingerprint");

/** Runs a follower in the background, collecting what it yields. */
function follow(dir: string, stream: string) {
  const stop = new AbortController();
  const seen: FollowedRecord[] = [];
  const done = (async () => {
    for await (const batch of followStream(dir, stream, { signal: stop.signal, pollMs: 50 })) {
      seen.push(...batch);
    }
  })();
  return {
    seen,
    payloads: () => seen.map((r) => r.payload.toString()),
    async until(count: number): Promise<void> {
      const end = Date.now() + 5000;
      while (seen.length < count) {
        if (Date.now() > end) throw new Error(`${seen.length} records, expected ${count}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop(): Promise<void> {
      stop.abort();
      await done;
    },
  };
}

const records = (...names: string[]) => names.map((n) => Buffer.from(n));

describe("buffer/follow", () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), "outpost-follow-")), "buf");
  });
  afterEach(() => rmSync(join(dir, ".."), { recursive: true, force: true }));

  it("starts from the end and yields what is appended after, across chunks, also chunks forwarded and deleted meanwhile", async () => {
    const buffer = await DiskBuffer.open({ dir, defaults: { fsync: "never", sealBytes: 200 } });
    await buffer.append("s", records("old1", "old2", "old3"), { schema: SCHEMA });
    const follower = follow(dir, "s");
    try {
      await new Promise((r) => setTimeout(r, 100));
      await buffer.append("s", records("new1"), { schema: SCHEMA });
      await follower.until(1);
      for (let i = 2; i <= 12; i++) {
        await buffer.append("s", records(`new${i}`), { schema: SCHEMA });
        // Forward at once: every sealed chunk is deleted as soon as it can be.
        for (let ref = buffer.nextToSend(); ref; ref = buffer.nextToSend()) {
          await buffer.acknowledge(ref);
        }
      }
      await follower.until(12);
      assert.deepEqual(
        follower.payloads(),
        Array.from({ length: 12 }, (_, i) => `new${i + 1}`),
      );
      assert.deepEqual(
        follower.seen.map((r) => r.seq),
        Array.from({ length: 12 }, (_, i) => i + 4),
      );
      assert.ok(follower.seen.every((r) => r.schema?.equals(SCHEMA)));
      assert.ok(new Set(follower.seen.map((r) => r.chunkId)).size > 1, "spans chunks");
    } finally {
      await follower.stop();
      await buffer.close();
    }
  });

  it("waits for a stream that does not exist yet and follows its writer over a restart", async () => {
    const follower = follow(dir, "s");
    try {
      const first = await DiskBuffer.open({ dir, defaults: { fsync: "never" } });
      await first.append("s", records("a", "b"));
      await follower.until(2);
      // A crash leaves the chunk open; the next writer's recovery seals it.
      await first.close({ seal: false });
      const second = await DiskBuffer.open({ dir, defaults: { fsync: "never" } });
      await second.append("s", records("c"));
      await second.append("s", records("d"));
      await follower.until(4);
      await second.close();
      assert.deepEqual(follower.payloads(), ["a", "b", "c", "d"]);
      assert.equal(follower.seen[0]?.schema?.length, 0);
      assert.ok(readdirSync(join(dir, "streams", "s")).length >= 2);
    } finally {
      await follower.stop();
    }
  });
});
