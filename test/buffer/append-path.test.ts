import { strict as assert } from "node:assert";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskBuffer } from "../../buffer/buffer.js";
import { type FileLayer, realFileLayer, type WritableFile } from "../../buffer/file-layer.js";
import { readUndelivered } from "../../buffer/inspect.js";
import { until } from "../helpers/until.js";

/** The real file layer, except that chosen fdatasync calls fail with EIO. */
function failingSyncs(shouldFail: () => boolean): FileLayer {
  const wrap = (file: WritableFile): WritableFile => ({
    get path() {
      return file.path;
    },
    get size() {
      return file.size;
    },
    append: (d) => file.append(d),
    writeAt: (o, d) => file.writeAt(o, d),
    truncate: (l) => file.truncate(l),
    close: () => file.close(),
    datasync: () =>
      shouldFail()
        ? Promise.reject(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }))
        : file.datasync(),
  });
  return {
    ...realFileLayer,
    createExclusive: async (p) => wrap(await realFileLayer.createExclusive(p)),
    openForAppend: async (p) => wrap(await realFileLayer.openForAppend(p)),
  };
}

describe("buffer/append-path", () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-append-"));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it("gives concurrent appends contiguous sequence ranges in call order, sharing commits", async () => {
    const buffer = await DiskBuffer.open({ dir: join(work, "b"), defaults: { fsync: "always" } });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        buffer.append("a", [Buffer.from(`${i}a`), Buffer.from(`${i}b`)]),
      ),
    );
    for (const [i, r] of results.entries())
      assert.deepEqual(r, { firstSeq: 2 * i + 1, lastSeq: 2 * i + 2 });
    await buffer.close();
    const payloads: string[] = [];
    for await (const r of readUndelivered(join(work, "b"))) payloads.push(r.payload.toString());
    assert.deepEqual(payloads.slice(0, 4), ["0a", "0b", "1a", "1b"]);
    assert.equal(payloads.length, 400);
  });

  it("opens the next chunk as soon as a commit fills one, and a crash leaving it empty loses nothing", async () => {
    const dir = join(work, "b");
    const chunks = () => readdirSync(join(dir, "streams", "a")).sort();
    const buffer = await DiskBuffer.open({
      dir,
      defaults: { fsync: "always", sealBytes: 1024, sealAgeMs: 60_000 },
    });
    await buffer.append("a", [Buffer.alloc(600, "x"), Buffer.alloc(600, "y")]);
    assert.equal(buffer.nextToSend()?.records, 2, "sealed when the append resolved");
    await until(() => chunks().length === 2, 2000, "the next chunk was never opened");
    await buffer.close({ seal: false });
    const files = chunks();
    const next = join(dir, "streams", "a", files[1] as string);
    assert.ok(statSync(next).size > 0, "the next chunk has its header");
    const reopened = await DiskBuffer.open({ dir });
    assert.deepEqual(chunks(), [files[0]], "the empty chunk is removed on open");
    assert.deepEqual(await reopened.append("a", [Buffer.from("z")]), { firstSeq: 3, lastSeq: 3 });
    await reopened.close();
    const stored: string[] = [];
    for await (const r of readUndelivered(dir)) stored.push(`${r.seq}:${r.payload.length}`);
    assert.deepEqual(stored, ["1:600", "2:600", "3:1"]);
  });

  it("opens no chunk ahead when that would leave no chunk slot for the next append", async () => {
    const dir = join(work, "b");
    const buffer = await DiskBuffer.open({
      dir,
      maxChunks: 3,
      defaults: { fsync: "always", sealBytes: 1024, sealAgeMs: 60_000, overflow: "reject" },
    });
    await buffer.append("a", [Buffer.alloc(1100)]);
    await until(() => buffer.usage.chunks === 2, 2000, "chunk 2 was never opened ahead");
    await buffer.append("a", [Buffer.alloc(1100)]);
    // Two chunks full. Opening ahead follows the commit by a few milliseconds; a third
    // chunk opened ahead would take the last slot and make the next append fail.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(buffer.usage.chunks, 2);
    assert.deepEqual(await buffer.append("a", [Buffer.from("fits")]), { firstSeq: 3, lastSeq: 3 });
    assert.equal(buffer.usage.chunks, 3);
    await buffer.close();
  });

  it("rejects exactly the appends a failed sync covered, cuts them from the file, and goes on", async () => {
    let fail = false;
    const dir = join(work, "b");
    const buffer = await DiskBuffer.open(
      { dir, defaults: { fsync: "always" } },
      { fs: failingSyncs(() => fail) },
    );
    await buffer.append("a", [Buffer.from("before")]);
    fail = true;
    await assert.rejects(buffer.append("a", [Buffer.from("lost-1"), Buffer.from("lost-2")]), {
      code: "EIO",
    });
    fail = false;
    assert.deepEqual(await buffer.append("a", [Buffer.from("after")]), { firstSeq: 2, lastSeq: 2 });
    await buffer.close();
    const stored: string[] = [];
    for await (const r of readUndelivered(dir)) stored.push(`${r.seq}:${r.payload}`);
    assert.deepEqual(stored, ["1:before", "2:after"]);
  });
});
