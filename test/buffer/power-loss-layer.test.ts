import { strict as assert } from "node:assert";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PowerCutError, PowerLossFileLayer } from "../helpers/power-loss-layer.js";

describe("buffer/power-loss-layer", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "outpost-powerlayer-"));
    mkdirSync(join(root, "d"));
    writeFileSync(join(root, "d", "old"), "kept");
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("keeps synced bytes and drops unsynced ones at the cut", async () => {
    const layer = await PowerLossFileLayer.capture(root, { seed: 1 });
    const file = await layer.openForAppend(join(root, "d", "old"));
    await file.append(Buffer.from("+synced"));
    await file.datasync();
    await file.append(Buffer.from("+lost"));
    await file.close();
    await layer.cutPower();
    assert.equal(readFileSync(join(root, "d", "old"), "utf8"), "kept+synced");
  });

  it("drops a created file whose directory was not synced, and keeps it once it was", async () => {
    const layer = await PowerLossFileLayer.capture(root, { seed: 1 });
    const a = await layer.createExclusive(join(root, "d", "a"));
    await a.append(Buffer.from("A"));
    await a.datasync();
    const b = await layer.createExclusive(join(root, "d", "b"));
    await b.append(Buffer.from("B"));
    await b.datasync();
    await layer.fsyncDir(join(root, "d"));
    const c = await layer.createExclusive(join(root, "d", "c"));
    await c.append(Buffer.from("C"));
    await c.datasync();
    await layer.unlink(join(root, "d", "old"));
    for (const f of [a, b, c]) await f.close();
    await layer.cutPower();
    assert.equal(readFileSync(join(root, "d", "a"), "utf8"), "A");
    assert.equal(existsSync(join(root, "d", "c")), false);
    // The unlink was not made durable either.
    assert.equal(readFileSync(join(root, "d", "old"), "utf8"), "kept");
  });

  it("keeps a torn prefix of unsynced appends when asked", async () => {
    const lengths = new Set<number>();
    for (let seed = 1; seed <= 8; seed++) {
      writeFileSync(join(root, "d", "old"), "kept");
      const layer = await PowerLossFileLayer.capture(root, { seed, keepTornPrefix: true });
      const file = await layer.openForAppend(join(root, "d", "old"));
      await file.append(Buffer.from("0123456789"));
      await file.close();
      await layer.cutPower();
      const left = readFileSync(join(root, "d", "old"), "utf8");
      assert.ok("kept0123456789".startsWith(left) && left.startsWith("kept"), left);
      lengths.add(left.length);
    }
    assert.ok(lengths.size > 1, "every cut kept the same prefix");
  });

  it("fails every operation after the cut", async () => {
    const layer = await PowerLossFileLayer.capture(root, { seed: 1 });
    await layer.cutPower();
    assert.ok(layer.isDead);
    await assert.rejects(layer.readdir(root), PowerCutError);
    await assert.rejects(layer.createExclusive(join(root, "d", "x")), { code: "E_POWER_CUT" });
  });
});
