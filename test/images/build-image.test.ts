import { strict as assert } from "node:assert";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Board, boardSchema } from "../../boards/index.js";
import { parseConfigText } from "../../cli/config/index.js";
import { buildImage, ImageInputError } from "../../images/index.js";
import { repoRoot, runOutpost } from "../helpers/run-outpost.js";
import { makeFixture, TINY_BOARD } from "./fixture.js";

interface SfdiskJson {
  partitiontable: {
    label: string;
    id: string;
    partitions: { start: number; size: number; uuid: string; name: string }[];
  };
}

describe("outpost image build", function () {
  this.timeout(60_000);
  let work: string;
  let fixture: { rootfs: string; board: string };
  const build = (out: string, extra: string[] = []) =>
    runOutpost([
      "image",
      "build",
      "--plain",
      "--board",
      fixture.board,
      "--rootfs",
      fixture.rootfs,
      "--out",
      out,
      "--json",
      ...extra,
    ]);

  before(() => {
    work = mkdtempSync(join(tmpdir(), "outpost-image-build-"));
    fixture = makeFixture(work);
    const first = build(join(work, "a.img"));
    assert.equal(first.status, 0, first.stderr);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("builds the same image, bmap and manifest bytes twice from the same inputs", () => {
    // A second later, so any wall-clock time leaking into the image would show.
    execFileSync("sleep", ["1.1"]);
    const second = build(join(work, "b.img"));
    assert.equal(second.status, 0, second.stderr);
    for (const suffix of ["", ".bmap", ".manifest.json"]) {
      const a = readFileSync(join(work, `a.img${suffix}`));
      const b = readFileSync(join(work, `b.img${suffix}`));
      assert.ok(a.equals(b), `a.img${suffix} and b.img${suffix} differ`);
    }
  });

  it("writes a GPT with the pinned disk GUID, PARTUUIDs and PARTLABELs the manifest records", () => {
    const table = JSON.parse(
      execFileSync("sfdisk", ["--json", join(work, "a.img")], { encoding: "utf8" }),
    ) as SfdiskJson;
    const { manifest } = JSON.parse(readFileSync(join(work, "a.img.manifest.json"), "utf8"));
    assert.equal(table.partitiontable.label, "gpt");
    assert.equal(table.partitiontable.id.toLowerCase(), manifest.diskGuid);
    assert.deepEqual(
      table.partitiontable.partitions.map((p) => [p.name, p.uuid.toLowerCase(), p.start * 512]),
      manifest.partitions.map((p: { label: string; partuuid: string; offset: number }) => [
        p.label,
        p.partuuid,
        p.offset,
      ]),
    );
    assert.deepEqual(
      table.partitiontable.partitions.map((p) => p.name),
      ["boot", "rootfs-a", "rootfs-b", "data"],
    );
  });

  it("puts the rootfs in rootfs-a with owners, modes and links kept, and boot/efi on the ESP", () => {
    const { manifest } = JSON.parse(readFileSync(join(work, "a.img.manifest.json"), "utf8"));
    const part = (label: string) =>
      manifest.partitions.find((p: { label: string }) => p.label === label) as {
        offset: number;
        size: number;
      };
    const rootfsA = join(work, "rootfs-a.ext4");
    const a = part("rootfs-a");
    execFileSync("dd", [
      `if=${join(work, "a.img")}`,
      `of=${rootfsA}`,
      "bs=1M",
      `skip=${a.offset / 2 ** 20}`,
      `count=${a.size / 2 ** 20}`,
      "status=none",
    ]);
    execFileSync("e2fsck", ["-fn", rootfsA], { stdio: "pipe" });
    const debugfs = (cmd: string) =>
      execFileSync("debugfs", ["-R", cmd, rootfsA], { encoding: "utf8", stdio: "pipe" });
    assert.equal(debugfs("cat /etc/hostname"), "outpost-test\n");
    assert.match(debugfs("stat /etc/secret"), /Mode:\s+0600[\s\S]*User:\s+1234\s+Group:\s+1234/);
    assert.match(debugfs("stat /usr/hostname-link"), /Fast link dest: "\.\.\/etc\/hostname"/);
    assert.match(debugfs("ls -l /boot"), /efi/, "boot/efi stays as an empty mount point");
    assert.doesNotMatch(debugfs("ls /boot/efi"), /EFI/);
    const esp = `${join(work, "a.img")}@@${part("boot").offset}`;
    const efi = execFileSync("mtype", ["-i", esp, "::/EFI/BOOT/BOOTX64.EFI"], {
      encoding: "utf8",
      env: { ...process.env, MTOOLS_SKIP_CHECK: "1" },
    });
    assert.equal(efi, "not really an EFI binary\n");
  });

  it("writes a bmap bmaptool accepts: bmaptool copy reproduces the image", () => {
    const copy = join(work, "bmaptool-copy.img");
    execFileSync("bmaptool", ["copy", join(work, "a.img"), copy], { stdio: "pipe" });
    assert.ok(readFileSync(copy).equals(readFileSync(join(work, "a.img"))));
  });

  it("refuses an unknown board with exit 2 naming the shipped ones", () => {
    const r = runOutpost(["image", "build", "--board", "pdp-11", "--rootfs", "x", "--out", "y"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^outpost: --board 'pdp-11': no such board \(known: .*qemu-x86_64/);
  });

  it("fails with one line naming the tarball when the rootfs cannot be extracted", () => {
    const bad = runOutpost([
      "image",
      "build",
      "--plain",
      "--board",
      fixture.board,
      "--rootfs",
      join(work, "missing.tar"),
      "--out",
      join(work, "c.img"),
    ]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^outpost: rootfs tarball .*missing\.tar cannot be extracted/);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
  });

  it("writes a board's raw bootloader from the rootfs at its offset, clear of a 16-entry GPT", async () => {
    const board = parseConfigText<Board>(
      TINY_BOARD.replace(
        "bootloader: { type: grub-efi, slotSelection: grub-env }",
        "bootloader: { type: u-boot, slotSelection: u-boot-bootcount, raw: { path: /usr/lib/spl.bin, offsetKiB: 8 } }",
      ).replace("layout:\n", "layout:\n  gptEntries: 16\n"),
      "raw.yaml",
      boardSchema,
    );
    const src = join(work, "raw-src");
    execFileSync("mkdir", ["-p", join(src, "usr/lib")]);
    const spl = Buffer.alloc(30_000, 0xa5);
    writeFileSync(join(src, "usr/lib/spl.bin"), spl);
    const rootfs = join(work, "raw-rootfs.tar");
    execFileSync("tar", ["-cf", rootfs, "-C", src, "."]);
    const out = join(work, "raw.img");
    await buildImage({ board, rootfs, out, sourceDateEpoch: 1_700_000_000 });
    assert.ok(
      readFileSync(out)
        .subarray(8192, 8192 + spl.length)
        .equals(spl),
    );
    execFileSync("sfdisk", ["--verify", out], { stdio: "pipe" });
    assert.match(execFileSync("sfdisk", ["--dump", out], { encoding: "utf8" }), /table-length: 16/);

    await assert.rejects(
      buildImage({ board, rootfs: fixture.rootfs, out: join(work, "no-spl.img") }),
      (err: unknown) =>
        err instanceof ImageInputError &&
        err.message === "the board's raw bootloader /usr/lib/spl.bin is not in the rootfs",
    );
  });

  it("stops on Ctrl-C with exit 130, killing the running tool and leaving no file behind", async () => {
    const dir = join(work, "interrupted");
    const src = join(dir, "src");
    execFileSync("mkdir", ["-p", src]);
    execFileSync("sh", ["-c", `head -c 150000000 /dev/urandom > '${join(src, "payload")}'`]);
    const rootfs = join(dir, "rootfs.tar");
    execFileSync("tar", ["-cf", rootfs, "-C", src, "."]);
    rmSync(src, { recursive: true });
    const board = join(dir, "board.yaml");
    writeFileSync(board, TINY_BOARD.replaceAll("sizeMiB: 16", "sizeMiB: 256"));
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(repoRoot, "cli/main.ts"),
        "image",
        "build",
        "--plain",
        "--board",
        board,
        "--rootfs",
        rootfs,
        "--out",
        join(dir, "x.img"),
      ],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    const exited = once(child, "exit");
    // The work directory appears when the build starts; interrupt it then.
    while (!readdirSync(dir).some((f) => f.startsWith(".outpost-image-"))) {
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill("SIGINT");
    const [code] = await exited;
    assert.equal(code, 130, stderr);
    assert.equal(stderr, "outpost: image build interrupted; nothing was written\n");
    assert.deepEqual(readdirSync(dir).sort(), ["board.yaml", "rootfs.tar"]);
  });
});
