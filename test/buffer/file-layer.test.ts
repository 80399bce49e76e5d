import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { realFileLayer } from "../../buffer/file-layer.js";

describe("buffer/file-layer", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-files-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("creates a file exclusively, appends at its end, and refuses to create it twice", async () => {
    const path = join(dir, "a");
    const file = await realFileLayer.createExclusive(path);
    await file.append(Buffer.from("hello "));
    await file.append(Buffer.from("world"));
    assert.equal(file.size, 11);
    await file.datasync();
    await file.close();
    await assert.rejects(realFileLayer.createExclusive(path), { code: "EEXIST" });
    const again = await realFileLayer.openForAppend(path);
    assert.equal(again.size, 11);
    await again.append(Buffer.from("!"));
    await again.truncate(5);
    await again.close();
    assert.equal(readFileSync(path, "utf8"), "hello");
  });

  it("reads a range, shorter at the end of the file", async () => {
    const path = join(dir, "b");
    const file = await realFileLayer.createExclusive(path);
    await file.append(Buffer.from("0123456789"));
    await file.close();
    assert.equal((await realFileLayer.readRange(path, 2, 3)).toString(), "234");
    assert.equal((await realFileLayer.readRange(path, 8, 10)).toString(), "89");
    assert.equal(await realFileLayer.size(path), 10);
  });

  it("syncs a directory and creates one that exists without complaint", async () => {
    await realFileLayer.mkdir(join(dir, "sub"));
    await realFileLayer.mkdir(join(dir, "sub"));
    await realFileLayer.fsyncDir(join(dir, "sub"));
    assert.deepEqual(await realFileLayer.readdir(dir), ["sub"]);
  });
});
