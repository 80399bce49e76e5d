import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskBuffer } from "../../buffer/buffer.js";
import { type FileLayer, realFileLayer, type WritableFile } from "../../buffer/file-layer.js";
import { readUndelivered } from "../../buffer/inspect.js";

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
