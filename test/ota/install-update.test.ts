import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Board, boardSchema } from "../../boards/index.js";
import { parseConfigText } from "../../cli/config/index.js";
import {
  ImageHashMismatchError,
  ManifestSignatureError,
  type SignedManifest,
} from "../../image-format/index.js";
import { buildImage } from "../../images/index.js";
import {
  initialSlotState,
  installUpdate,
  type OtaConfig,
  OtaRefusedError,
  renderGrubEnv,
  type SlotState,
  SlotStore,
  slotVars,
} from "../../ota/index.js";
import { runOutpost } from "../helpers/run-outpost.js";
import { makeFixture, TINY_BOARD } from "../images/fixture.js";

const MiB = 1024 * 1024;

/** A SlotStore that also keeps every state it wrote, in order. */
class RecordingStore extends SlotStore {
  readonly written: SlotState[] = [];
  override write(state: SlotState): void {
    this.written.push(state);
    super.write(state);
  }
}

const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

describe("ota/install-update: writing the slot not running", function () {
  this.timeout(60_000);
  let work: string;
  let image: string;
  let config: OtaConfig;
  let cmdline: string;

  function store(): RecordingStore {
    return new RecordingStore(config, cmdline);
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "outpost-ota-install-"));
    const fixture = makeFixture(work);
    const board = parseConfigText<Board>(TINY_BOARD, fixture.board, boardSchema);
    assert.equal(runOutpost(["image", "keygen", "--out", join(work, "release")]).status, 0);
    image = join(work, "update.img");
    await buildImage({
      board,
      rootfs: fixture.rootfs,
      out: image,
      signKey: join(work, "release.key"),
      sourceDateEpoch: 1_700_000_000,
    });
    cmdline = join(work, "cmdline");
    writeFileSync(cmdline, "BOOT_IMAGE=(hd0,gpt2)/vmlinuz root=PARTUUID=x rw outpost.slot=a\n");
  });

  beforeEach(() => {
    const env = join(work, "grubenv");
    writeFileSync(env, renderGrubEnv(slotVars(initialSlotState()), env));
    for (const s of ["a", "b"]) {
      rmSync(join(work, `slot-${s}`), { force: true });
      execFileSync("truncate", ["-s", `${16 * MiB}`, join(work, `slot-${s}`)]);
    }
    config = {
      board: "tiny",
      slotSelection: "grub-env",
      env,
      slots: {
        a: { device: join(work, "slot-a"), partuuid: "00000000-0000-0000-0000-00000000000a" },
        b: { device: join(work, "slot-b"), partuuid: "00000000-0000-0000-0000-00000000000b" },
      },
      key: join(work, "release.pub"),
      attempts: 3,
      healthWindowSeconds: 60,
    };
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it("writes rootfs A of the update into slot B, reads it back, and puts B first on trial", async () => {
    const s = store();
    const result = await installUpdate({ image, store: s });
    assert.equal(result.slot, "b");
    assert.deepEqual(
      s.written.map((w) => w.slots.b.health),
      ["dirty", "trial"],
      "dirty before the first byte, trial only after the read-back",
    );
    assert.deepEqual(s.read().order, ["b", "a"]);
    assert.equal(s.read().slots.b.attemptsLeft, 3);
    execFileSync("e2fsck", ["-fn", config.slots.b.device], { stdio: "pipe" });
    const files = execFileSync("debugfs", ["-R", "cat /etc/hostname", config.slots.b.device], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    assert.equal(files, "outpost-test\n");
  });

  it("a tampered block of the rootfs fails before anything is written", async () => {
    const manifest = JSON.parse(readFileSync(`${image}.manifest.json`, "utf8")) as SignedManifest;
    const part = manifest.manifest.partitions.find((p) => p.role === "rootfs-a");
    assert.ok(part);
    const bad = join(work, "bad.img");
    execFileSync("cp", ["--sparse=always", image, bad]);
    for (const ext of ["bmap", "manifest.json"])
      execFileSync("cp", [`${image}.${ext}`, `${bad}.${ext}`]);
    const fd = openSync(bad, "r+");
    writeSync(fd, Buffer.from("X"), 0, 1, part.offset + 1024 + 0x78);
    closeSync(fd);
    const before = sha(config.slots.b.device);
    const s = store();
    await assert.rejects(installUpdate({ image: bad, store: s }), ImageHashMismatchError);
    assert.equal(sha(config.slots.b.device), before);
    assert.deepEqual(s.written, [], "the slot state was not touched");
  });

  it("a forged manifest, a foreign board and a running slot on trial are refused before writing", async () => {
    const signed = JSON.parse(readFileSync(`${image}.manifest.json`, "utf8")) as SignedManifest;
    const forged = join(work, "forged.json");
    writeFileSync(
      forged,
      JSON.stringify({ ...signed, manifest: { ...signed.manifest, board: "tiny2" } }),
    );
    await assert.rejects(
      installUpdate({ image, manifest: forged, store: store() }),
      ManifestSignatureError,
    );
    config.board = "olimex-a20";
    await assert.rejects(
      installUpdate({ image, store: store() }),
      (e: unknown) =>
        e instanceof OtaRefusedError &&
        /update for board tiny; this system is olimex-a20/.test(e.message),
    );
    config.board = "tiny";
    writeFileSync(cmdline, "root=x outpost.slot=b\n");
    try {
      await assert.rejects(
        installUpdate({ image, store: store() }),
        /running slot b is dirty, not committed/,
      );
    } finally {
      writeFileSync(cmdline, "root=x outpost.slot=a\n");
    }
  });

  it("cut short while writing, the target stays dirty and A stays first", async () => {
    const s = store();
    await assert.rejects(
      installUpdate({
        image,
        store: s,
        onProgress: (phase) => {
          if (phase === "write") throw new Error("power cut");
        },
      }),
      /power cut/,
    );
    assert.deepEqual(s.read().order, ["a", "b"]);
    assert.equal(s.read().slots.b.health, "dirty");
  });

  it("`outpost ota install` and `ota status` from the CLI, with a bad config named", () => {
    const file = join(work, "ota.json");
    writeFileSync(file, JSON.stringify(config));
    const status = runOutpost(["ota", "status", "--config", file, "--json"]);
    assert.equal(status.status, 1, "no outpost.slot on this machine's /proc/cmdline");
    assert.match(status.stderr, /not booted from an Outpost A\/B image/);
    writeFileSync(file, JSON.stringify({ ...config, attempts: 12 }));
    const bad = runOutpost(["ota", "install", image, "--config", file]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /ota\.json.*attempts/);
  });
});
