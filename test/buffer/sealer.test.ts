import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskBuffer } from "../../buffer/buffer.js";
import { until } from "../helpers/until.js";

describe("buffer/sealer", () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-sealer-"));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it("seals a chunk sealAgeMs after it was opened and tells the forwarder", async () => {
    const buffer = await DiskBuffer.open({ dir: join(work, "b"), defaults: { sealAgeMs: 50 } });
    let activity = 0;
    buffer.onActivity(() => activity++);
    await buffer.append("a", [Buffer.from("x")]);
    assert.equal(buffer.nextToSend(), undefined);
    await until(() => activity > 0, 2000, "never sealed by age");
    assert.equal(buffer.nextToSend()?.records, 1);
    await buffer.close();
  });

  it("seals a chunk with the commit that brings it to sealBytes, never splitting an append", async () => {
    const buffer = await DiskBuffer.open({
      dir: join(work, "b"),
      defaults: { sealBytes: 1024, sealAgeMs: 60_000, fsync: "never" },
    });
    for (let i = 0; i < 30; i++) await buffer.append("a", [Buffer.alloc(80), Buffer.alloc(80)]);
    const together = Array.from({ length: 20 }, () =>
      buffer.append("a", [Buffer.alloc(80), Buffer.alloc(80)]),
    );
    await Promise.all(together);
    const sizes: number[] = [];
    for (let ref = buffer.nextToSend(); ref; ref = buffer.nextToSend()) {
      assert.equal(ref.records % 2, 0, "an append was split across chunks");
      sizes.push(ref.bytes);
    }
    // One-append commits overshoot by less than one append; the 20 appends that shared a
    // commit went into one chunk together.
    assert.ok(sizes.length >= 5);
    for (const size of sizes.slice(0, -1)) assert.ok(size >= 1024, `sealed at ${size} bytes`);
    assert.ok(
      sizes.slice(0, 4).every((size) => size < 1024 + 200 + 40),
      sizes.join(","),
    );
    assert.ok((sizes.at(-1) as number) >= 20 * 200, sizes.join(","));
    await buffer.close();
  });

  it("starts a new chunk when the schema fingerprint changes", async () => {
    const buffer = await DiskBuffer.open({ dir: join(work, "b"), defaults: { fsync: "never" } });
    await buffer.append("a", [Buffer.from("v1")], { schema: Buffer.from("s1") });
    await buffer.append("a", [Buffer.from("v2")], { schema: Buffer.from("s2") });
    await buffer.sealAll();
    const first = buffer.nextToSend();
    const second = buffer.nextToSend();
    assert.ok(first && second);
    assert.equal((await buffer.load(first))?.schema.toString(), "s1");
    assert.equal((await buffer.load(second))?.schema.toString(), "s2");
    await buffer.close();
  });
});
