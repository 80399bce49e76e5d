import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BufferLockedError } from "../../buffer/errors.js";
import { acquireLock } from "../../buffer/lock.js";

describe("buffer/lock", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-lock-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses a second holder while the first lives and frees the directory on release", async () => {
    const release = await acquireLock(dir);
    assert.equal(readFileSync(join(dir, "lock"), "utf8"), `${process.pid}\n`);
    await assert.rejects(acquireLock(dir), (err: BufferLockedError) => {
      assert.equal(err.code, "E_BUFFER_LOCKED");
      assert.equal(err.pid, process.pid);
      return true;
    });
    await release();
    const again = await acquireLock(dir);
    await again();
  });

  it("takes over a lock left by a process that died", async () => {
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    writeFileSync(join(dir, "lock"), `${dead.stdout}\n`);
    const release = await acquireLock(dir);
    assert.equal(readFileSync(join(dir, "lock"), "utf8"), `${process.pid}\n`);
    await release();
  });

  it("refuses a directory another live process holds", async () => {
    // pid 1 is alive on every Linux box and is not us.
    writeFileSync(join(dir, "lock"), "1\n");
    await assert.rejects(acquireLock(dir), BufferLockedError);
  });
});
