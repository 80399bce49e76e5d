import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { boardFile } from "../../boards/index.js";
import { runOutpost } from "../helpers/run-outpost.js";

/** qemu-x86_64.yaml with one line replaced: a realistic file with one mistake in it. */
function variant(dir: string, name: string, from: RegExp, to: string): string {
  const text = readFileSync(boardFile("qemu-x86_64") as string, "utf8");
  assert.match(text, from);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text.replace(from, to));
  return file;
}

/** 1-based line of the first line matching `re` in `file`. */
function lineOf(file: string, re: RegExp): number {
  return (
    readFileSync(file, "utf8")
      .split("\n")
      .findIndex((l) => re.test(l)) + 1
  );
}

describe("boards: a bad board file is an error naming file, line and key", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-boards-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const show = (file: string) => runOutpost(["image", "board", file]);

  it("prints a valid board with defaults filled in (--json)", () => {
    const r = runOutpost(["image", "board", "raspberrypi4", "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const board = JSON.parse(r.stdout) as {
      bootloader: { slotSelection: string };
      layout: { gptEntries: number };
    };
    assert.equal(board.bootloader.slotSelection, "tryboot");
    assert.equal(board.layout.gptEntries, 128);
  });

  it("names an unknown arch with the allowed values", () => {
    const file = variant(dir, "arch", /^arch: x86_64$/m, "arch: sparc");
    const r = show(file);
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      `outpost: ${file}:${lineOf(file, /^arch:/)}:7: arch: must be one of: "x86_64", "aarch64", "armhf" [E_CONFIG]; fix that line of the file\n`,
    );
  });

  it("names a misspelt key with a did-you-mean hint", () => {
    const file = variant(dir, "typo", /^qemu:/m, "qemuu:");
    const r = show(file);
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      `outpost: ${file}:${lineOf(file, /^qemuu:/)}:1: qemuu: unknown key; did you mean 'qemu'? [E_CONFIG]; fix that line of the file\n`,
    );
  });

  it("names a bad value deep in the partition layout", () => {
    const file = variant(
      dir,
      "fs",
      /label: rootfs-b, role: rootfs-b, sizeMiB: 1536, filesystem: ext4/,
      "label: rootfs-b, role: rootfs-b, sizeMiB: 1536, filesystem: btrfs",
    );
    const r = show(file);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^outpost: ${file}:${lineOf(file, /btrfs/)}:\\d+: layout\\.partitions\\[2\\]\\.filesystem: must be one of`,
      ),
    );
  });

  it("names an inconsistency the schema cannot see: rootfs-b smaller than rootfs-a", () => {
    const file = variant(
      dir,
      "ab",
      /label: rootfs-b, role: rootfs-b, sizeMiB: 1536/,
      "label: rootfs-b, role: rootfs-b, sizeMiB: 512",
    );
    const r = show(file);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^outpost: ${file}:${lineOf(file, /sizeMiB: 512/)}:\\d+: layout\\.partitions\\[2\\]\\.sizeMiB: rootfs-b must be the size of rootfs-a`,
      ),
    );
  });

  it("names a role used twice", () => {
    const file = variant(dir, "role", /label: data, role: data/, "label: data, role: rootfs-a");
    const r = show(file);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `:${lineOf(file, /label: data, role: rootfs-a/)}:\\d+: layout\\.partitions\\[3\\]\\.role: 'rootfs-a' already used by partition 1`,
      ),
    );
  });

  it("names a missing required key", () => {
    const file = variant(dir, "missing", /^storage: .*\n/m, "");
    const r = show(file);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(`^outpost: ${file}:${lineOf(file, /^id:/)}:1: storage: required key is missing`),
    );
  });
});
