import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import type { Board } from "../../boards/index.js";
import { boardFile, boardSchema } from "../../boards/index.js";
import { parseConfigText } from "../../cli/config/index.js";
import { debianPackages, debootstrapRootfs } from "../../images/index.js";
import { ensureDist, repoRoot } from "./run-outpost.js";

/**
 * A Linux kernel other than the host's, for what the host's cannot do (this CI's kernel
 * has no CONFIG_QFMT_V2, so no ext4 quota at all): the Debian kernel of the qemu-x86_64
 * board, from the rootfs tarball the image tests debootstrap (cached in CACHE), booted
 * by qemu with an initramfs of our own. Its root is the host's own `/` over 9p, read
 * only, under an overlay on tmpfs: the same Node, repository and build, as root, with
 * nothing written back. One script runs on its console, then it powers off.
 */

const CACHE = "/var/cache/outpost-test";
const BOARD = "qemu-x86_64";
/** What the init needs to reach the host's root, plus ext4 with its quota format. */
const MODULES = [
  "drivers/virtio/virtio_pci.ko",
  "net/9p/9pnet_virtio.ko",
  "fs/9p/9p.ko",
  "fs/overlayfs/overlay.ko",
  "drivers/block/loop.ko",
  "crypto/crc32c_generic.ko",
  "fs/ext4/ext4.ko",
  "fs/quota/quota_v2.ko",
];
const INIT_SOURCE = join(repoRoot, "test", "helpers", "kernel-vm-init.c");

function loadBoard(id: string): Board {
  const file = boardFile(id) as string;
  return parseConfigText<Board>(readFileSync(file, "utf8"), file, boardSchema);
}

/** The image tests' cached Debian rootfs (same key), debootstrapped when missing. */
async function cachedRootfs(): Promise<string> {
  const board = loadBoard(BOARD);
  const key = createHash("sha256")
    .update(`bookworm ${debianPackages(board).join(",")}`)
    .digest("hex")
    .slice(0, 12);
  const file = join(CACHE, `rootfs-${board.id}-${key}.tar`);
  if (existsSync(file)) return file;
  mkdirSync(CACHE, { recursive: true });
  return debootstrapRootfs({ board, out: file });
}

/** The `.ko` files of `wanted` and everything they need, dependencies first (modules.dep). */
function moduleOrder(dep: string, wanted: readonly string[]): string[] {
  const deps = new Map<string, string[]>();
  for (const line of dep.split("\n")) {
    const [mod, rest] = line.split(":");
    if (mod) deps.set(mod, (rest ?? "").trim().split(/\s+/).filter(Boolean));
  }
  const out: string[] = [];
  const visit = (mod: string): void => {
    if (out.includes(mod) || !deps.has(mod)) return; // built in, or already loaded
    for (const d of [...(deps.get(mod) ?? [])].reverse()) visit(d);
    out.push(mod);
  };
  for (const w of wanted) visit(`kernel/${w}`);
  return out;
}

/** An uncompressed newc cpio archive (what the kernel unpacks as its initramfs). */
function cpio(entries: { name: string; mode: number; data?: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  let ino = 1;
  for (const e of [...entries, { name: "TRAILER!!!", mode: 0 }]) {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${e.name}\0`);
    const fields = [ino++, e.mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length, 0];
    const header = Buffer.from(
      `070701${fields.map((f) => f.toString(16).padStart(8, "0")).join("")}`,
    );
    parts.push(header, name, pad(header.length + name.length), data, pad(data.length));
  }
  return Buffer.concat(parts);
}

/** Kernel and initramfs, made once per rootfs and init source (a few seconds), then cached. */
async function vmAssets(): Promise<{ kernel: string; initramfs: string }> {
  const rootfs = await cachedRootfs();
  const key = createHash("sha256")
    .update(`${rootfs}\n${MODULES.join(",")}\n${readFileSync(INIT_SOURCE, "utf8")}`)
    .digest("hex")
    .slice(0, 12);
  const dir = join(CACHE, `kernel-vm-${key}`);
  const kernel = join(dir, "vmlinuz");
  const initramfs = join(dir, "initramfs.cpio");
  if (existsSync(kernel) && existsSync(initramfs)) return { kernel, initramfs };
  const work = mkdtempSync(join(CACHE, ".kernel-vm-"));
  try {
    const listing = execFileSync("tar", ["-tf", rootfs, "./boot/"], { encoding: "utf8" });
    const vmlinuz = listing.split("\n").find((l) => /^\.\/boot\/vmlinuz-/.test(l));
    if (!vmlinuz) throw new Error(`no kernel in ${rootfs}`);
    const release = vmlinuz.replace("./boot/vmlinuz-", "");
    const modules = `./usr/lib/modules/${release}`;
    execFileSync("tar", ["-xf", rootfs, "-C", work, vmlinuz, `${modules}/modules.dep`]);
    const order = moduleOrder(readFileSync(join(work, modules, "modules.dep"), "utf8"), MODULES);
    execFileSync("tar", ["-xf", rootfs, "-C", work, ...order.map((m) => `${modules}/${m}`)]);
    execFileSync("gcc", ["-static", "-O2", "-o", join(work, "init"), INIT_SOURCE]);
    const entries = [
      ...["dev", "proc", "sys", "modules"].map((name) => ({ name, mode: 0o040755 })),
      { name: "init", mode: 0o100755, data: readFileSync(join(work, "init")) },
      ...order.map((m, i) => ({
        name: `modules/${i}.ko`,
        mode: 0o100644,
        data: readFileSync(join(work, modules, m)),
      })),
      {
        name: "modules.order",
        mode: 0o100644,
        data: Buffer.from(`${order.map((_, i) => `/modules/${i}.ko`).join("\n")}\n`),
      },
    ];
    writeFileSync(join(work, "initramfs.cpio"), cpio(entries));
    mkdirSync(dir, { recursive: true });
    renameSync(join(work, "initramfs.cpio"), initramfs);
    renameSync(join(work, vmlinuz), kernel);
    return { kernel, initramfs };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Boots the VM and runs `script` (bash, as root, loopback up, cgroup2 at
 * /sys/fs/cgroup); resolves with its exit status and console output. Software
 * emulation (the nested KVM of CI machines hangs), 2 CPUs.
 */
export async function runInKernelVm(
  script: string,
  options: { timeoutMs: number; memoryMiB?: number; log?: string },
): Promise<{ status: number; output: string }> {
  const { kernel, initramfs } = await vmAssets();
  // The guest sees the host's /tmp through its root: the script is read from there.
  const dir = mkdtempSync(join(tmpdir(), "outpost-kernel-vm-"));
  const file = join(dir, "run.sh");
  // The account files are the host's, live, until written: taken all at once at boot, so
  // the guest's useradd never sees a half-made account of a test running on the host.
  const snapshot =
    "for f in passwd group shadow gshadow; do cp -p /etc/$f /etc/$f.vm && mv /etc/$f.vm /etc/$f; done";
  writeFileSync(file, `${snapshot}\nip link set lo up\n${script}\n`, { mode: 0o755 });
  const args = [
    ...["-machine", "q35", "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", "2"],
    ...["-m", String(options.memoryMiB ?? 2048), "-display", "none", "-serial", "stdio"],
    ...["-no-reboot", "-kernel", kernel, "-initrd", initramfs],
    ...["-append", `console=ttyS0 quiet panic=-1 outpost.script=${file}`],
    "-virtfs",
    "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
  ];
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      const take = (b: Buffer) => {
        output += b.toString("utf8");
        if (options.log) appendFileSync(options.log, b);
      };
      child.stdout.on("data", take);
      child.stderr.on("data", take);
      const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
      child.once("error", reject);
      child.once("exit", () => {
        clearTimeout(timer);
        const m = /@@outpost-vm-exit-(\d+)@@/.exec(output);
        if (!m)
          reject(
            new Error(`the VM ended without the script's status; last: ${output.slice(-3000)}`),
          );
        else resolve({ status: Number(m[1]), output: output.replaceAll("\r", "") });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether this kernel mounts an ext4 with project quota (tried once: mkfs, loop mount, umount). */
let hostHasProjectQuota: boolean | undefined;
export function kernelHasProjectQuota(): boolean {
  if (hostHasProjectQuota !== undefined) return hostHasProjectQuota;
  const dir = mkdtempSync(join(tmpdir(), "outpost-prjquota-probe-"));
  try {
    const img = join(dir, "img");
    const mnt = join(dir, "mnt");
    mkdirSync(mnt);
    execFileSync("truncate", ["-s", "16M", img]);
    execFileSync("mkfs.ext4", ["-q", "-O", "quota,project", img]);
    hostHasProjectQuota = spawnSync("mount", ["-o", "loop,prjquota", img, mnt]).status === 0;
    if (hostHasProjectQuota) execFileSync("umount", [mnt]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return hostHasProjectQuota;
}

/** What a mocha run said. */
export interface MochaRun {
  where: "host" | "vm";
  status: number;
  passing: number;
  failing: number;
  output: string;
}

/**
 * Runs mocha on `files` (suites that need ext4 project quota) on a kernel that has it:
 * this one if it can, else the VM's. Each file must be written to pass on such a kernel,
 * as root. For the VM they are bundled first (our sources in one file, packages
 * external, as bundled-cli.ts does): loading hundreds of TypeScript files over 9p under
 * emulation takes minutes, one file seconds.
 */
export async function mochaWithProjectQuota(
  files: readonly string[],
  timeoutMs: number,
): Promise<MochaRun> {
  ensureDist();
  const env = `PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=${process.env.CI ?? ""} OUTPOST_TEST_DIST=ready`;
  let where: MochaRun["where"];
  let status: number;
  let output: string;
  if (kernelHasProjectQuota()) {
    where = "host";
    const command = `./node_modules/.bin/mocha --timeout ${timeoutMs} ${files.join(" ")}`;
    const run = spawnSync("sh", ["-c", `env ${env} ${command} 2>&1`], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: timeoutMs,
    });
    status = run.status ?? 1;
    output = run.stdout;
  } else {
    where = "vm";
    // dist/test-bundles/ sits as deep as test/helpers/: repoRoot resolves the same.
    const bundle = join(repoRoot, "dist", "test-bundles", `prjquota-${process.pid}.mjs`);
    await build({
      entryPoints: files.map((f) => join(repoRoot, f)),
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      // Error names come from their classes: a renamed class would rename its errors.
      keepNames: true,
      outfile: bundle,
      logLevel: "error",
    });
    const forbid = process.env.CI === "true" ? "--forbid-only --forbid-pending" : "";
    const command = `node node_modules/mocha/bin/mocha.js --no-config ${forbid} --timeout ${timeoutMs} ${bundle}`;
    try {
      ({ status, output } = await runInKernelVm(`cd ${repoRoot} && env ${env} ${command} 2>&1`, {
        timeoutMs,
      }));
    } finally {
      rmSync(bundle, { force: true });
    }
  }
  return {
    where,
    status,
    passing: Number(/(\d+) passing/.exec(output)?.[1] ?? 0),
    failing: Number(/(\d+) failing/.exec(output)?.[1] ?? 0),
    output,
  };
}
