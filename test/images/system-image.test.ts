import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Board, boardSchema } from "../../boards/index.js";
import { parseConfigText } from "../../cli/config/index.js";
import type { SignedManifest } from "../../image-format/index.js";
import { buildImage } from "../../images/index.js";
import { type OtaConfig, parseGrubEnv, slotStateFrom } from "../../ota/index.js";
import { runOutpost } from "../helpers/run-outpost.js";
import { TINY_BOARD } from "./fixture.js";

/** The tiny board with slots big enough for Node.js and the bundle. */
const BOARD = TINY_BOARD.replace("id: tiny", "id: tiny-system").replaceAll(
  "sizeMiB: 16",
  "sizeMiB: 640",
);

/**
 * A minimal rootfs an Outpost system can be added to: a few files and the host's GRUB
 * EFI modules (Debian's grub-efi-amd64-bin, as --debootstrap installs in the rootfs).
 */
function systemRootfs(dir: string): string {
  const src = join(dir, "src");
  mkdirSync(join(src, "etc"), { recursive: true });
  mkdirSync(join(src, "usr/lib/grub"), { recursive: true });
  writeFileSync(join(src, "etc/hostname"), "debian\n");
  cpSync("/usr/lib/grub/x86_64-efi", join(src, "usr/lib/grub/x86_64-efi"), { recursive: true });
  const tarball = join(dir, "rootfs.tar");
  execFileSync("tar", ["--numeric-owner", "--mtime=@1700000000", "-cf", tarball, "-C", src, "."]);
  return tarball;
}

function debugfsCat(image: string, offset: number, path: string): string {
  return execFileSync("debugfs", ["-R", `cat ${path}`, `${image}?offset=${offset}`], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

describe("images: an image with the Outpost system (agent, Node.js, A/B boot)", function () {
  this.timeout(300_000);
  let work: string;
  let board: Board;
  let first: SignedManifest;
  let image: string;
  const masterKey = "Hs1pGv=x%>}6n3hEuTA2hE6W8Ey#w>c8^OzE.2Ub";

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "outpost-system-image-"));
    board = parseConfigText<Board>(BOARD, "tiny-system.yaml", boardSchema);
    const rootfs = systemRootfs(work);
    assert.equal(runOutpost(["image", "keygen", "--out", join(work, "release")]).status, 0);
    image = join(work, "a.img");
    const options = {
      board,
      rootfs,
      signKey: join(work, "release.key"),
      sourceDateEpoch: 1_790_000_000,
      system: { master: "tcp://192.0.2.1:5660", masterKey, healthWindowSeconds: 120, attempts: 4 },
    };
    first = (await buildImage({ ...options, out: image })).manifest;
    const second = await buildImage({ ...options, out: join(work, "b.img") });
    assert.deepEqual(second.manifest, first);
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it("is reproducible: the same inputs give the same image bytes", () => {
    const sum = (f: string) => execFileSync("sha256sum", [f], { encoding: "utf8" }).split(" ")[0];
    assert.equal(sum(join(work, "b.img")), sum(image));
    assert.equal(sum(join(work, "b.img")), first.manifest.image.sha256);
  });

  it("carries the agent unit, master endpoint, OTA settings by PARTUUID, the release key and /proc with hidepid in fstab, and no node secret", () => {
    const root = first.manifest.partitions.find((p) => p.role === "rootfs-a");
    const slotB = first.manifest.partitions.find((p) => p.role === "rootfs-b");
    assert.ok(root && slotB);
    const unit = debugfsCat(image, root.offset, "/etc/systemd/system/outpost-agent.service");
    assert.match(unit, /--ota \/etc\/outpost\/ota\.json/);
    assert.match(unit, /^Delegate=yes$/m);
    assert.match(
      execFileSync(
        "debugfs",
        [
          "-R",
          "stat /etc/systemd/system/multi-user.target.wants/outpost-agent.service",
          `${image}?offset=${root.offset}`,
        ],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
      ),
      /Type: symlink/,
    );
    assert.equal(
      debugfsCat(image, root.offset, "/etc/outpost/agent.env"),
      `OUTPOST_MASTER='tcp://192.0.2.1:5660'\nOUTPOST_MASTER_KEY='${masterKey}'\n`,
    );
    const ota = JSON.parse(debugfsCat(image, root.offset, "/etc/outpost/ota.json")) as OtaConfig;
    assert.equal(ota.slots.b.partuuid, slotB.partuuid);
    assert.equal(ota.slots.b.device, `/dev/disk/by-partuuid/${slotB.partuuid}`);
    assert.equal(ota.attempts, 4);
    assert.equal(ota.healthWindowSeconds, 120);
    assert.equal(
      debugfsCat(image, root.offset, "/etc/outpost/release.pub"),
      readFileSync(join(work, "release.pub"), "utf8"),
    );
    const fstab = debugfsCat(image, root.offset, "/etc/fstab");
    assert.match(fstab, /^PARTLABEL=data \/var\/lib\/outpost ext4/m);
    // Other accounts' processes invisible: no partition reads another's command lines.
    const proc = fstab.split("\n").filter((l) => /^\S+\s+\/proc\s/.test(l));
    assert.deepEqual(proc, ["proc /proc proc defaults,hidepid=invisible 0 0"]);
    assert.equal(debugfsCat(image, root.offset, "/etc/machine-id"), "");
    const agentDir = execFileSync(
      "debugfs",
      ["-R", "ls -p /var/lib/outpost", `${image}?offset=${root.offset}`],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    assert.doesNotMatch(agentDir, /node\.key/);
  });

  it("puts GRUB and the A/B script on the ESP, slot a committed and b empty", () => {
    const boot = first.manifest.partitions.find((p) => p.role === "boot");
    const root = first.manifest.partitions.find((p) => p.role === "rootfs-a");
    assert.ok(boot && root);
    const esp = `${image}@@${boot.offset}`;
    const efi = join(work, "BOOTX64.EFI");
    execFileSync("mcopy", ["-n", "-i", esp, "::/EFI/BOOT/BOOTX64.EFI", efi]);
    assert.match(
      execFileSync("file", ["-b", efi], { encoding: "utf8" }),
      /EFI application.*x86-64/i,
    );
    const cfg = execFileSync("mtype", ["-i", esp, "::/EFI/outpost/grub.cfg"], { encoding: "utf8" });
    assert.match(cfg, new RegExp(`uuid=${root.partuuid}`));
    const env = execFileSync("mtype", ["-i", esp, "::/EFI/outpost/grubenv"], { encoding: "utf8" });
    assert.equal(env.length, 1024);
    assert.deepEqual(slotStateFrom(parseGrubEnv(env, "grubenv"), "grubenv").slots, {
      a: { health: "good", attemptsLeft: 0 },
      b: { health: "dirty", attemptsLeft: 0 },
    });
  });
});
