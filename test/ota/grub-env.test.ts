import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GRUB_ENV_SIZE,
  parseGrubEnv,
  readGrubEnv,
  renderGrubEnv,
  SlotEnvError,
  writeGrubEnv,
} from "../../ota/index.js";

describe("ota/grub-env: GRUB environment blocks", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-grubenv-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes what grub-editenv reads, and reads what grub-editenv writes", () => {
    const file = join(dir, "grubenv");
    writeFileSync(
      file,
      renderGrubEnv(
        new Map([
          ["ORDER", "b a"],
          ["A_STATE", "good"],
        ]),
        file,
      ),
    );
    assert.equal(statSync(file).size, GRUB_ENV_SIZE);
    assert.equal(
      execFileSync("grub-editenv", [file, "list"], { encoding: "utf8" }),
      "A_STATE=good\nORDER=b a\n",
    );
    execFileSync("grub-editenv", [file, "set", "B_LEFT=2", "odd=x\\y"]);
    const vars = readGrubEnv(file);
    assert.equal(vars.get("B_LEFT"), "2");
    assert.equal(vars.get("odd"), "x\\y");
    assert.equal(vars.get("ORDER"), "b a");
  });

  it("rewrites in place (same inode, same size), keeping other variables", () => {
    const file = join(dir, "grubenv");
    execFileSync("grub-editenv", [file, "create"]);
    execFileSync("grub-editenv", [file, "set", "keep=1"]);
    const ino = statSync(file).ino;
    const vars = readGrubEnv(file);
    vars.set("ORDER", "a b");
    writeGrubEnv(file, vars);
    assert.equal(statSync(file).ino, ino);
    assert.equal(
      execFileSync("grub-editenv", [file, "list"], { encoding: "utf8" }),
      "ORDER=a b\nkeep=1\n",
    );
  });

  it("refuses what is not a block, a wrong size, and variables that do not fit", () => {
    assert.throws(
      () => parseGrubEnv("hello", "f"),
      (e: unknown) => e instanceof SlotEnvError && /not a GRUB environment block/.test(e.message),
    );
    const short = join(dir, "short");
    writeFileSync(short, "# GRUB Environment Block\n");
    assert.throws(() => readGrubEnv(short), /is 25 bytes, a GRUB env block is 1024/);
    assert.throws(() => renderGrubEnv(new Map([["big", "x".repeat(2000)]]), "f"), /more than 1024/);
    assert.throws(() => readGrubEnv(join(dir, "missing")), /cannot read \(ENOENT\)/);
    assert.equal(readFileSync(short, "utf8"), "# GRUB Environment Block\n");
  });
});
