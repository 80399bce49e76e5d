import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Board, boardFile, boardSchema } from "../../boards/index.js";
import { parseConfigText } from "../../cli/config/index.js";
import type { SignedManifest } from "../../image-format/index.js";
import { buildImage, debianPackages } from "../../images/index.js";

const CACHE = "/var/cache/outpost-test";

/**
 * An arm64 Debian tree as debootstrap's first stage leaves it (the base unpacked,
 * nothing configured: that needs arm64 code to run), with the extra packages' files
 * unpacked by dpkg-deb, GRUB's arm64 modules and the kernel among them. Enough to build
 * an image from and inspect what it holds; kept between runs.
 */
function foreignRootfs(board: Board): string {
  const packages = debianPackages(board).join(",");
  const key = createHash("sha256")
    .update(`bookworm arm64 foreign+extracted ${packages}`)
    .digest("hex")
    .slice(0, 12);
  const file = join(CACHE, `rootfs-${board.id}-foreign-${key}.tar`);
  if (existsSync(file)) return file;
  mkdirSync(CACHE, { recursive: true });
  const tree = mkdtempSync(join(CACHE, ".foreign-"));
  try {
    execFileSync(
      "debootstrap",
      [
        "--foreign",
        "--arch=arm64",
        "--variant=minbase",
        `--include=${packages}`,
        "bookworm",
        tree,
        "http://deb.debian.org/debian",
      ],
      { stdio: "pipe" },
    );
    const debs = join(tree, "var/cache/apt/archives");
    for (const deb of readdirSync(debs).filter((f) => f.endsWith(".deb"))) {
      execFileSync("dpkg-deb", ["-x", join(debs, deb), tree]);
    }
    execFileSync("sh", ["-c", 'rm -f "$1"/var/cache/apt/archives/*.deb', "sh", tree]);
    execFileSync("tar", ["--numeric-owner", "-C", tree, "-cf", `${file}.part`, "."]);
    renameSync(`${file}.part`, file);
    return file;
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

/** `file`'s description of a file inside the image's rootfs-a, read with debugfs at the partition's offset. */
function describeInRootfs(image: string, offset: number, path: string, work: string): string {
  const out = join(work, path.replaceAll("/", "_"));
  execFileSync("debugfs", ["-R", `dump ${path} ${out}`, `${image}?offset=${offset}`], {
    stdio: "pipe",
  });
  return execFileSync("file", ["-b", out], { encoding: "utf8" });
}

describe("images: an aarch64 (qemu-aarch64) image with the cross-built addon", function () {
  this.timeout(900_000);
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-aarch64-image-"));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("builds: GRUB for arm64 on the ESP, Node.js, the addon and dependencies' binaries for aarch64", async () => {
    const file = boardFile("qemu-aarch64") as string;
    const board = parseConfigText<Board>(readFileSync(file, "utf8"), file, boardSchema);
    const rootfs = foreignRootfs(board);
    const image = join(work, "gw-arm64.img");
    const built = await buildImage({
      board,
      rootfs,
      out: image,
      sourceDateEpoch: 1_790_000_000,
      system: { master: "tcp://192.0.2.1:5660", masterKey: "0".repeat(40) },
    });
    const manifest = (JSON.parse(readFileSync(built.manifestFile, "utf8")) as SignedManifest)
      .manifest;
    assert.equal(manifest.arch, "aarch64");
    const boot = manifest.partitions.find((p) => p.role === "boot");
    const root = manifest.partitions.find((p) => p.role === "rootfs-a");
    assert.ok(boot && root);
    const efi = join(work, "BOOTAA64.EFI");
    execFileSync("mcopy", ["-i", `${image}@@${boot.offset}`, "::/EFI/BOOT/BOOTAA64.EFI", efi]);
    assert.match(
      execFileSync("file", ["-b", efi], { encoding: "utf8" }),
      /EFI application.*Aarch64/i,
    );
    const aarch64 = /ELF 64-bit LSB .*ARM aarch64/;
    assert.match(describeInRootfs(image, root.offset, "/opt/outpost/node/bin/node", work), aarch64);
    assert.match(
      describeInRootfs(image, root.offset, "/opt/outpost/app/build/Release/outpost.node", work),
      aarch64,
    );
    const crc = execFileSync(
      "debugfs",
      ["-R", "ls -p /opt/outpost/app/node_modules/@node-rs", `${image}?offset=${root.offset}`],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    assert.match(crc, /crc32-linux-arm64-gnu/);
    assert.doesNotMatch(crc, /crc32-linux-x64-gnu/);
    const zmq = execFileSync(
      "debugfs",
      [
        "-R",
        "ls -p /opt/outpost/app/node_modules/zeromq/build/linux",
        `${image}?offset=${root.offset}`,
      ],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    assert.match(zmq, /\/arm64\//);
    assert.doesNotMatch(zmq, /\/x64\//);
  });
});
