import { strict as assert } from "node:assert";
import { type ChildProcess, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Board } from "../../boards/index.js";
import { boardFile, boardSchema } from "../../boards/index.js";
import { parseConfigText } from "../../cli/config/index.js";
import type { SignedManifest } from "../../image-format/index.js";
import { buildImage, debianPackages, debootstrapRootfs } from "../../images/index.js";
import type { InstanceView } from "../../master/index.js";
import { type StartedMaster, startMaster, stopMaster } from "../helpers/e2e-stack.js";
import { QemuVm } from "../helpers/qemu-vm.js";
import { repoRoot, runOutpost } from "../helpers/run-outpost.js";
import { eventually } from "../helpers/until.js";

const BOARD = "qemu-x86_64";
const OVMF = { code: "/usr/share/OVMF/OVMF_CODE_4M.fd", vars: "/usr/share/OVMF/OVMF_VARS_4M.fd" };
/** Debian rootfs tarballs are kept between runs: debootstrap is the slow, network-bound part. */
const CACHE = "/var/cache/outpost-test";
/**
 * Seconds a trial boot has to become healthy. The good update ends its window as soon as
 * it is healthy, so its window is roomy at no cost (the suite runs this file niced,
 * beside the other tests); the bad one is waited out, so it is short.
 */
const HEALTH_WINDOW = 300;
const BAD_HEALTH_WINDOW = 45;

function loadBoard(id: string): Board {
  const file = boardFile(id) as string;
  return parseConfigText<Board>(readFileSync(file, "utf8"), file, boardSchema);
}

async function cachedRootfs(board: Board): Promise<string> {
  const key = createHash("sha256")
    .update(`bookworm ${debianPackages(board).join(",")}`)
    .digest("hex")
    .slice(0, 12);
  const file = join(CACHE, `rootfs-${board.id}-${key}.tar`);
  if (existsSync(file)) return file;
  mkdirSync(CACHE, { recursive: true });
  return debootstrapRootfs({ board, out: file });
}

/** Serves a directory on loopback; the guest reaches it as 10.0.2.2 through qemu's user network. */
function serveDir(dir: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const file = join(dir, (req.url ?? "/").replace(/\.\./g, ""));
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200);
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, port: (server.address() as { port: number }).port }),
    ),
  );
}

describe("e2e: a qemu-x86_64 image boots into a registered agent; A/B updates in the VM", function () {
  this.timeout(1_800_000);
  let tmp: string;
  let master: ChildProcess | undefined;
  let started: StartedMaster;
  let env: NodeJS.ProcessEnv;
  let files: Server | undefined;
  let vm: QemuVm | undefined;
  let disk: string;
  let vars: string;
  let bundleDisk: string;
  let softwareUrl: string;
  let tamperedImage: string;
  let tamperedManifest: string;

  function cli(...args: string[]): string {
    const r = runOutpost(args, { env });
    assert.equal(r.status, 0, `outpost ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  }

  function show(name: string): InstanceView | undefined {
    const r = runOutpost(["show", name, "--json"], { env });
    return r.status === 0
      ? (JSON.parse(r.stdout) as { instance: InstanceView }).instance
      : undefined;
  }

  function boot(): QemuVm {
    vm = new QemuVm({
      disk,
      firmware: { code: OVMF.code, vars },
      extraDisks: [bundleDisk],
      log: join(tmp, "console.log"),
    });
    return vm;
  }

  /** Waits for the root shell after a boot from `from` and returns the slot GRUB chose. */
  async function shellAfterBoot(machine: QemuVm, from: number): Promise<string> {
    const slot = await machine.waitFor(/outpost: slot ([ab]) /, 120_000, from);
    await machine.waitFor(/root@outpost:~# /, 240_000, from);
    await machine.run("dmesg -n 1");
    return slot[1] as string;
  }

  async function otaStatus(machine: QemuVm) {
    const r = await machine.run("outpost ota status --json", 120_000);
    assert.equal(r.status, 0, r.output);
    return JSON.parse(r.output.slice(r.output.indexOf("{"))) as {
      booted: string;
      state: {
        order: string[];
        slots: Record<"a" | "b", { health: string; attemptsLeft: number }>;
      };
    };
  }

  async function slotBSum(machine: QemuVm): Promise<string> {
    const r = await machine.run(
      "head -c 16M /dev/disk/by-partlabel/rootfs-b | sha256sum | cut -d' ' -f1",
    );
    return r.output.trim();
  }

  /**
   * `outpost ota install PATH` in the guest, its output kept in a file and printed once it
   * is done: on a terminal it draws a progress bar, and that stream on the emulated serial
   * console once stalled the console for good mid-install (15 min without a byte).
   */
  function otaInstall(machine: QemuVm, path: string, timeoutMs: number) {
    return machine.run(
      `outpost ota install ${path} > /root/ota.log 2>&1; s=$?; cat /root/ota.log; (exit $s)`,
      timeoutMs,
    );
  }

  /** `ota install` of a bundle from the bundle disk into slot B, then a reboot that GRUB sends into B. */
  async function installAndRebootIntoB(machine: QemuVm, bundle: string): Promise<void> {
    await machine.run("mkdir -p /mnt/bundles && mount -o ro LABEL=bundles /mnt/bundles");
    const install = await otaInstall(machine, `/mnt/bundles/${bundle}`, 900_000);
    assert.equal(install.status, 0, install.output);
    assert.match(install.output, /into slot b/);
    const from = machine.mark();
    machine.child.stdin?.write("systemctl reboot\n");
    assert.equal((await machine.waitFor(/outpost: slot ([ab]) /, 180_000, from))[1], "b");
  }

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-e2e-image-"));
    const board = loadBoard(BOARD);
    const rootfs = await cachedRootfs(board);
    ({ master, started, env } = await startMaster(join(tmp, "master")));
    const port = started.endpoint.split(":").at(-1);
    const endpoint = `tcp://10.0.2.2:${port}`;
    assert.equal(
      cli("image", "keygen", "--out", join(tmp, "release")).trim().split("\n").length,
      2,
    );
    const software = join(tmp, "software");
    mkdirSync(software);
    for (const f of ["software.yaml", "echo.tar.gz"])
      copyFileSync(join(repoRoot, "test/fixtures/echo", f), join(software, f));
    const served = await serveDir(software);
    files = served.server;
    softwareUrl = `http://10.0.2.2:${served.port}/software.yaml`;
    const system = {
      master: endpoint,
      masterKey: started.publicKey,
      consoleAutologin: true,
      healthWindowSeconds: HEALTH_WINDOW,
      attempts: 3,
    };
    const signKey = join(tmp, "release.key");
    const bundles = join(tmp, "bundles");
    mkdirSync(bundles);
    await buildImage({
      board,
      rootfs,
      out: join(tmp, "a.img"),
      signKey,
      system,
      sourceDateEpoch: 1_790_000_000,
    });
    await buildImage({
      board,
      rootfs,
      out: join(bundles, "good.img"),
      signKey,
      system,
      sourceDateEpoch: 1_790_100_000,
    });
    // An update whose agent cannot reach its master: its health never passes.
    await buildImage({
      board,
      rootfs,
      out: join(bundles, "bad.img"),
      signKey,
      system: { ...system, master: "tcp://10.0.2.2:9", healthWindowSeconds: BAD_HEALTH_WINDOW },
      sourceDateEpoch: 1_790_200_000,
    });
    // Tampered copies: one byte of the rootfs, or the manifest's claimed build time.
    const manifest = JSON.parse(
      readFileSync(join(bundles, "good.img.manifest.json"), "utf8"),
    ) as SignedManifest;
    for (const name of ["tampered-image", "tampered-manifest"]) {
      runOrThrow("cp", [
        "--sparse=always",
        join(bundles, "good.img"),
        join(bundles, `${name}.img`),
      ]);
      copyFileSync(join(bundles, "good.img.bmap"), join(bundles, `${name}.img.bmap`));
    }
    const rootfsPart = manifest.manifest.partitions.find((p) => p.role === "rootfs-a");
    assert.ok(rootfsPart);
    const fd = openSync(join(bundles, "tampered-image.img"), "r+");
    writeSync(fd, Buffer.from([0x5a]), 0, 1, rootfsPart.offset + 1024 + 0x40);
    closeSync(fd);
    copyFileSync(
      join(bundles, "good.img.manifest.json"),
      join(bundles, "tampered-image.img.manifest.json"),
    );
    const forged = {
      ...manifest,
      manifest: { ...manifest.manifest, created: manifest.manifest.created + 1 },
    };
    writeFileSync(join(bundles, "tampered-manifest.img.manifest.json"), JSON.stringify(forged));
    bundleDisk = join(tmp, "bundles.ext4");
    runOrThrow("mke2fs", [
      "-q",
      "-F",
      "-t",
      "ext4",
      "-L",
      "bundles",
      "-d",
      bundles,
      bundleDisk,
      "8G",
    ]);
    tamperedImage = join(bundles, "tampered-image.img");
    tamperedManifest = join(bundles, "tampered-manifest.img");
    disk = join(tmp, "disk.img");
    runOrThrow("cp", ["--sparse=always", join(tmp, "a.img"), disk]);
    vars = join(tmp, "vars.fd");
    copyFileSync(OVMF.vars, vars);
  });

  after(async () => {
    await vm?.powerOff();
    files?.close();
    await stopMaster(master);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("boots slot A by PARTUUID, the agent registers with the master on the host and runs an instance", async () => {
    const machine = boot();
    assert.equal(await shellAfterBoot(machine, 0), "a");
    const mounts = await machine.run(
      "findmnt -rno SOURCE,TARGET | grep -E ' (/|/boot/efi|/var/lib/outpost)$' | sort -k2",
    );
    assert.match(mounts.output, /\/dev\/vda2 \/\n/);
    assert.match(mounts.output, /\/dev\/vda1 \/boot\/efi\n/);
    assert.match(mounts.output, /\/dev\/vda4 \/var\/lib\/outpost\n/);
    const key = await eventually(
      "the agent made its key on the data partition",
      120_000,
      async () => {
        const r = await machine.run(
          "cat /var/lib/outpost/agent/node.key >/dev/null 2>&1 && outpost agent key --data /var/lib/outpost/agent",
        );
        return r.status === 0 ? r.output.trim() : undefined;
      },
      2000,
    );
    cli("node", "add", "gw1", "--key", key);
    await eventually(
      "gw1 registered with its board",
      180_000,
      () => {
        const node = JSON.parse(cli("node", "list", "--json")).nodes.find(
          (n: { name: string }) => n.name === "gw1",
        );
        return node?.partitions === 4 ? node : undefined;
      },
      1000,
    );
    cli("supply", softwareUrl, "--node", "gw1");
    cli("request", softwareUrl, "e1", "--param", "port=7500");
    const e1 = await eventually(
      "e1 running with green promises",
      300_000,
      () => {
        const i = show("e1");
        return i?.status === "running" && i.promises.length > 0 && i.promises.every((p) => p.ok)
          ? i
          : undefined;
      },
      1000,
    );
    assert.equal(e1.node, "gw1");
    const ps = await machine.run("pgrep -u outpost-p1 -f echo-server");
    assert.equal(ps.status, 0, "the echo server runs in the VM as partition 1's user");
    const status = await otaStatus(machine);
    assert.equal(status.booted, "a");
    assert.deepEqual(status.state.slots, {
      a: { health: "good", attemptsLeft: 0 },
      b: { health: "dirty", attemptsLeft: 0 },
    });
  });

  it("a tampered image or manifest fails ota install before anything is written", async () => {
    const machine = vm as QemuVm;
    await machine.run("mkdir -p /mnt/bundles && mount -o ro LABEL=bundles /mnt/bundles");
    const before = await slotBSum(machine);
    const image = await otaInstall(machine, "/mnt/bundles/tampered-image.img", 600_000);
    assert.equal(image.status, 1, image.output);
    assert.match(image.output, /E_IMAGE_HASH|sha256/);
    const manifest = await otaInstall(machine, "/mnt/bundles/tampered-manifest.img", 120_000);
    assert.equal(manifest.status, 1, manifest.output);
    assert.match(manifest.output, /signature does not verify/);
    assert.equal(await slotBSum(machine), before, "slot B was not written");
    const verify = runOutpost([
      "image",
      "verify",
      tamperedImage,
      "--key",
      join(tmp, "release.pub"),
    ]);
    assert.equal(verify.status, 1);
    assert.match(verify.stderr, /rootfs-a: sha256 is/);
    const forgedVerify = runOutpost([
      "image",
      "verify",
      tamperedManifest,
      "--key",
      join(tmp, "release.pub"),
    ]);
    assert.equal(forgedVerify.status, 1);
    assert.match(forgedVerify.stderr, /signature does not verify/);
    assert.equal((await otaStatus(machine)).state.slots.b.health, "dirty");
  });

  it("power off in the middle of an install: slot B stays dirty and A boots", async () => {
    const machine = vm as QemuVm;
    const from = machine.mark();
    machine.child.stdin?.write(
      "outpost ota install /mnt/bundles/good.img > /root/install.log 2>&1 &\n",
    );
    // Wait for the write phase: the first blocks of slot B change.
    const pristine = await slotBSum(machine);
    await eventually(
      "the install started writing slot B",
      600_000,
      async () => ((await slotBSum(machine)) !== pristine ? true : undefined),
      2000,
    );
    await machine.powerOff();
    assert.doesNotMatch(machine.since(from), /installed .* into slot b/);
    const again = boot();
    assert.equal(await shellAfterBoot(again, again.mark()), "a");
    const status = await otaStatus(again);
    assert.equal(status.state.slots.b.health, "dirty");
    assert.equal(status.state.slots.a.health, "good");
  });

  it("an update whose agent never becomes healthy is rejected and the box returns to A by itself", async () => {
    const machine = vm as QemuVm;
    await installAndRebootIntoB(machine, "bad.img");
    // No one types: the agent on B rejects it after the health window and reboots.
    const back = await machine.waitFor(
      /outpost: slot ([ab]) /,
      (BAD_HEALTH_WINDOW + 240) * 1000,
      machine.mark() + 1,
    );
    assert.equal(back[1], "a");
    await machine.waitFor(/root@outpost:~# /, 240_000, machine.mark() - 10);
    await machine.run("dmesg -n 1");
    const status = await otaStatus(machine);
    assert.equal(status.booted, "a");
    assert.deepEqual(status.state.order, ["a", "b"]);
    assert.equal(status.state.slots.b.health, "bad");
  });

  it("a healthy update: A → install B → boot B → health passes → B committed, surviving a power cut in its trial boot", async () => {
    const machine = vm as QemuVm;
    await installAndRebootIntoB(machine, "good.img");
    // The plug is pulled during B's first trial boot, before its agent could commit it.
    await machine.powerOff();
    const again = boot();
    assert.equal(
      await shellAfterBoot(again, again.mark()),
      "b",
      "a power cut costs a trial boot, not the update",
    );
    const committed = await eventually(
      "B committed by its agent",
      (HEALTH_WINDOW + 60) * 1000,
      async () => {
        const s = await otaStatus(again);
        return s.state.slots.b?.health === "good" ? s : undefined;
      },
      3000,
    );
    assert.equal(committed.booted, "b");
    assert.deepEqual(committed.state.order, ["b", "a"]);
    assert.equal(committed.state.slots.a?.health, "good", "A stays as the fallback");
    const e1 = await eventually(
      "e1 running again on B (state on the data partition)",
      300_000,
      () => {
        const i = show("e1");
        return i?.status === "running" && i.promises.every((p) => p.ok) ? i : undefined;
      },
      1000,
    );
    assert.equal(e1.node, "gw1");
  });
});

function runOrThrow(tool: string, args: string[]): void {
  const r = spawnSync(tool, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(" ")}: ${r.stderr}`);
}
