import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import {
  linkSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { measureDiskUsage } from "../../../agent/partitions/disk-usage.js";

const MiB = 1024 ** 2;
const fast = { batch: 1000, pauseMs: 0 };

/** What `du` says the tree takes (allocated blocks, hard links once, no link followed). */
function du(dir: string): number {
  return Number(execFileSync("du", ["-s", "-B1", dir], { encoding: "utf8" }).split("\t")[0]);
}

// On tmpfs (/dev/shm) as on any filesystem without project quota: the measured path.
describe("agent disk usage (measured path)", () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync("/dev/shm/outpost-disk-usage-");
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it("counts allocated blocks, not apparent size, of every file and directory, like du", async () => {
    const root = join(tmp, "p1");
    mkdirSync(join(root, "a", "b"), { recursive: true });
    writeFileSync(join(root, "a", "b", "data"), Buffer.alloc(MiB, 1));
    writeFileSync(join(root, "small"), "x");
    writeFileSync(join(root, "sparse"), "");
    truncateSync(join(root, "sparse"), 100 * MiB);
    const usage = await measureDiskUsage([root], { pace: fast });
    assert.equal(usage.complete, true);
    assert.equal(usage.inodes, 6, "p1, a, b, data, small, sparse");
    assert.equal(usage.bytes, du(root));
    assert.ok(usage.bytes >= MiB && usage.bytes < 2 * MiB, `${usage.bytes}`);
  });

  it("never follows a symlink and counts a hard-linked file once", async () => {
    const root = join(tmp, "p1");
    const elsewhere = join(tmp, "elsewhere");
    mkdirSync(root);
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, "big"), Buffer.alloc(4 * MiB, 1));
    symlinkSync(elsewhere, join(root, "to-dir"));
    symlinkSync(join(elsewhere, "big"), join(root, "to-file"));
    writeFileSync(join(root, "once"), Buffer.alloc(MiB, 1));
    linkSync(join(root, "once"), join(root, "twice"));
    const usage = await measureDiskUsage([root], { pace: fast });
    assert.equal(usage.inodes, 4, "p1, two links, one file");
    assert.ok(usage.bytes < 2 * MiB, `the 4 MiB behind the links is not counted (${usage.bytes})`);
    assert.equal(usage.bytes, du(root));
  });

  it("adds up several roots, skips a missing one, and walks trees deeper than PATH_MAX allows at once", async () => {
    const logs = join(tmp, "logs");
    mkdirSync(logs);
    writeFileSync(join(logs, "x.log"), Buffer.alloc(64 * 1024, 1));
    const root = join(tmp, "p1");
    let deep = root;
    for (let i = 0; i < 300; i++) deep = join(deep, "directory");
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, "bottom"), Buffer.alloc(MiB, 1));
    const usage = await measureDiskUsage([root, logs, join(tmp, "missing")], { pace: fast });
    assert.equal(usage.inodes, 301 + 1 + 2, "301 directories and the bottom file; logs and x.log");
    assert.ok(usage.bytes >= MiB + 64 * 1024, `the bottom file is counted (${usage.bytes})`);
  });

  it("stops as soon as the count passes stopAbove: an instance over its limit is known early", async () => {
    const root = join(tmp, "p1");
    mkdirSync(root);
    for (let i = 0; i < 50; i++) writeFileSync(join(root, `f${i}`), Buffer.alloc(64 * 1024, 1));
    const usage = await measureDiskUsage([root], {
      pace: fast,
      stopAbove: { bytes: 256 * 1024, inodes: Infinity },
    });
    assert.equal(usage.complete, false);
    assert.ok(usage.bytes > 256 * 1024 && usage.inodes < 51, `${usage.inodes} entries counted`);
    const inodes = await measureDiskUsage([root], {
      pace: fast,
      stopAbove: { bytes: Infinity, inodes: 10 },
    });
    assert.equal(inodes.complete, false);
    assert.equal(inodes.inodes, 11);
  });
});
