import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  copyMappedBlocks,
  FlashVerifyError,
  parseBmap,
  verifyMappedBlocks,
} from "../../image-format/index.js";
import { repoRoot, runOutpost } from "../helpers/run-outpost.js";
import { makeFixture } from "./fixture.js";

interface Part {
  label: string;
  offset: number;
  size: number;
}

/** `/dev/NAME` of the block device mounted on `/`, from the live mount table and sysfs. */
function rootDevice(): string | undefined {
  const line = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .find((l) => l.split(" ")[4] === "/");
  const dev = line?.split(" ")[2];
  const uevent = `/sys/dev/block/${dev}/uevent`;
  if (!dev || !existsSync(uevent)) return undefined;
  const name = /DEVNAME=(.+)/.exec(readFileSync(uevent, "utf8"))?.[1];
  return name && existsSync(`/dev/${name}`) ? `/dev/${name}` : undefined;
}

describe("outpost image flash", function () {
  this.timeout(60_000);
  let work: string;
  let image: string;
  let parts: Part[];

  before(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-image-flash-"));
    const fixture = makeFixture(work);
    image = join(work, "src.img");
    const r = runOutpost([
      "image",
      "build",
      "--plain",
      "--board",
      fixture.board,
      "--rootfs",
      fixture.rootfs,
      "--out",
      image,
    ]);
    assert.equal(r.status, 0, r.stderr);
    parts = JSON.parse(readFileSync(`${image}.manifest.json`, "utf8")).manifest.partitions;
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("writes the image to a file byte for byte, copying only the mapped blocks, and reports throughput", () => {
    const target = join(work, "out.img");
    writeFileSync(target, "old content that must go");
    const r = runOutpost(["image", "flash", image, "--to", target, "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout) as Record<string, number | string>;
    assert.ok(readFileSync(target).equals(readFileSync(image)));
    const bmap = parseBmap(readFileSync(`${image}.bmap`, "utf8"), "bmap");
    assert.equal(result.mappedBytes, bmap.mappedBlocksCount * bmap.blockSize);
    assert.ok(
      (result.mappedBytes as number) < statSync(image).size / 4,
      "most of the image is free space",
    );
    assert.ok((result.writeMBps as number) > 0);
    assert.equal(result.kind, "file");
    assert.equal(r.stderr, "", "no progress bar when stderr is not a terminal");
  });

  it("shows write and verify progress with throughput on a terminal", () => {
    const target = join(work, "tty.img");
    const cmd = [
      process.execPath,
      "--import",
      "tsx",
      join(repoRoot, "cli/main.ts"),
      "image",
      "flash",
      image,
      "--to",
      target,
    ];
    // script(1) gives the CLI a pseudo-terminal, as a field engineer's shell would.
    const out = execFileSync("script", ["-qec", cmd.map((a) => `'${a}'`).join(" "), "/dev/null"], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    assert.match(out, /write +\[[=-]+\] \d+% \d+\/\d+ MB [\d.]+ MB\/s/);
    assert.match(out, /verify +\[=+\] 100% /);
    assert.match(out, /wrote \d+ of \d+ bytes to .*tty\.img .* MB\/s\), read back and verified/);
  });

  it("leaves valid filesystems and GPT on a target full of random bytes (unmapped blocks are don't-care)", async () => {
    const target = join(work, "garbage.img");
    const noise = Buffer.alloc(statSync(image).size);
    randomFillSync(noise);
    writeFileSync(target, noise);
    const bmap = parseBmap(readFileSync(`${image}.bmap`, "utf8"), "bmap");
    const src = openSync(image, "r");
    const dst = openSync(target, "r+");
    try {
      await copyMappedBlocks(src, bmap, dst, () => {});
    } finally {
      closeSync(src);
      closeSync(dst);
    }
    execFileSync("sfdisk", ["--verify", target], { stdio: "pipe" });
    for (const p of parts) {
      const file = join(work, `${p.label}.part`);
      execFileSync("dd", [
        `if=${target}`,
        `of=${file}`,
        "bs=1M",
        `skip=${p.offset / 2 ** 20}`,
        `count=${p.size / 2 ** 20}`,
        "status=none",
      ]);
      const check = p.label === "boot" ? ["fsck.vfat", ["-n", file]] : ["e2fsck", ["-fn", file]];
      execFileSync(check[0] as string, check[1] as string[], { stdio: "pipe" });
    }
  });

  it("read-back verification names the blocks where the target differs from the image", async () => {
    const target = join(work, "read-back.img");
    const r = runOutpost(["image", "flash", image, "--to", target]);
    assert.equal(r.status, 0, r.stderr);
    const bmap = parseBmap(readFileSync(`${image}.bmap`, "utf8"), "bmap");
    const range = bmap.ranges.at(-2) as { first: number; last: number };
    const dst = openSync(target, "r+");
    const src = openSync(image, "r");
    try {
      writeSync(dst, Buffer.from("bit rot"), 0, 7, range.first * bmap.blockSize + 10);
      await assert.rejects(
        verifyMappedBlocks(dst, src, bmap, "read-back.img", () => {}),
        (err: unknown) =>
          err instanceof FlashVerifyError &&
          err.code === "E_FLASH_VERIFY" &&
          err.range === `${range.first}-${range.last}`,
      );
    } finally {
      closeSync(dst);
      closeSync(src);
    }
  });

  it("stops at the first range whose bytes no longer match the bmap, exit 1 naming the blocks", () => {
    const bad = join(work, "bad.img");
    copyFileSync(image, bad);
    copyFileSync(`${image}.bmap`, `${bad}.bmap`);
    const fd = openSync(bad, "r+");
    writeSync(fd, Buffer.from("X"), 0, 1, (parts[1] as Part).offset + 1100);
    closeSync(fd);
    const r = runOutpost(["image", "flash", bad, "--to", join(work, "bad-out.img")]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^outpost: blocks \d+-\d+: sha256 is [0-9a-f]{64}, expected/);
  });

  it("refuses the disk the system runs from, even with --yes", () => {
    const root = rootDevice();
    assert.ok(root, "this machine's / is on a block device with a node in /dev");
    const r = runOutpost(["image", "flash", image, "--to", root, "--yes"]);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(`^outpost: refusing to write ${root}: it is the disk the system runs from`),
    );
  });

  it("refuses to overwrite the image with itself", () => {
    const r = runOutpost(["image", "flash", image, "--to", image]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /refusing to write .*: it is the image itself/);
  });
});
