import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Board } from "../boards/index.js";
import { buildImage } from "../images/index.js";
import { median, report } from "./lib/report.js";

/**
 * `outpost image flash` against `bmaptool copy` (Debian bmap-tools), both copying the
 * same image with the same bmap to a file, interleaved, in one run. Throughput is
 * mapped bytes per second of wall time, process start included for both; ours also
 * reads every range back and compares it, bmaptool does not.
 * Options: --data-mib N (random payload in rootfs A, default 256), --rounds N (default 3).
 */
const { values } = parseArgs({
  options: {
    "data-mib": { type: "string", default: "256" },
    rounds: { type: "string", default: "3" },
  },
});
const dataMiB = Number(values["data-mib"]);
const rounds = Number(values.rounds);
if (!Number.isInteger(dataMiB) || dataMiB < 1 || !Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write("bench flash: --data-mib and --rounds must be positive integers\n");
  process.exit(2);
}
const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "cli", "main.js");
const work = mkdtempSync(join(tmpdir(), "outpost-bench-flash-"));

try {
  const src = join(work, "src");
  mkdirSync(join(src, "boot/efi"), { recursive: true });
  // Random bytes: nothing in the payload is zero, so all of it is mapped.
  execFileSync("sh", [
    "-c",
    `head -c ${dataMiB * 2 ** 20} /dev/urandom > '${join(src, "payload")}'`,
  ]);
  writeFileSync(join(src, "boot/efi/BOOTX64.EFI"), "bench\n");
  const rootfs = join(work, "rootfs.tar");
  execFileSync("tar", ["-cf", rootfs, "-C", src, "."]);
  // Room for the journal, metadata and the 5 % reserved blocks around the payload.
  const slot = Math.ceil(dataMiB * 1.15) + 64;
  const board: Board = {
    id: "bench",
    description: "bench board",
    arch: "x86_64",
    bootloader: { type: "grub-efi", slotSelection: "grub-env" },
    console: "ttyS0,115200",
    storage: "/dev/vda",
    kernel: { package: "linux-image-amd64", realtime: false },
    cpus: { housekeeping: "0", realtime: "" },
    layout: {
      gptEntries: 128,
      firstOffsetMiB: 1,
      partitions: [
        { label: "boot", role: "boot", sizeMiB: 8, filesystem: "vfat" },
        { label: "rootfs-a", role: "rootfs-a", sizeMiB: slot, filesystem: "ext4" },
        { label: "rootfs-b", role: "rootfs-b", sizeMiB: slot, filesystem: "ext4" },
        { label: "data", role: "data", sizeMiB: 64, filesystem: "ext4" },
      ],
    },
  };
  const image = join(work, "bench.img");
  const built = await buildImage({ board, rootfs, out: image, sourceDateEpoch: 1_700_000_000 });
  rmSync(src, { recursive: true });

  const time = (cmd: string, args: string[]) => {
    const start = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    return { seconds: Number(process.hrtime.bigint() - start) / 1e9, stdout: r.stdout };
  };
  const ours: number[] = [];
  const oursWrite: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const target = join(work, "target.img");
    const run = time(process.execPath, [cli, "image", "flash", image, "--to", target, "--json"]);
    ours.push(run.seconds);
    oursWrite.push((JSON.parse(run.stdout) as { writeSeconds: number }).writeSeconds);
    rmSync(target);
    baseline.push(time("bmaptool", ["copy", image, target]).seconds);
    rmSync(target);
  }
  const mb = built.mappedBytes / 1e6;
  report({
    name: "flash",
    ours: mb / median(ours),
    baseline: mb / median(baseline),
    unit: "MB/s (mapped bytes per second of wall time, median)",
    better: "higher",
    extra: {
      rounds,
      mappedMB: Number(mb.toFixed(1)),
      imageMB: Number((built.manifest.manifest.image.size / 1e6).toFixed(1)),
      oursSeconds: median(ours),
      bmaptoolSeconds: median(baseline),
      oursCopyAndFsyncOnlyMBps: Number((mb / median(oursWrite)).toFixed(1)),
      oursIncludes: "copy + fsync + read-back verify",
    },
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}
