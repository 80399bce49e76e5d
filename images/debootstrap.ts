import { mkdtempSync, renameSync, rmSync } from "node:fs";
import { arch as hostArch } from "node:os";
import { basename, dirname, join } from "node:path";
import type { Arch, Board } from "../boards/index.js";
import { ImageInputError } from "./errors.js";
import { runTool } from "./run-tool.js";

const DEBIAN_ARCH: Record<Arch, string> = { x86_64: "amd64", aarch64: "arm64", armhf: "armhf" };
const NODE_ARCH: Record<Arch, string> = { x86_64: "x64", aarch64: "arm64", armhf: "arm" };

export interface DebootstrapOptions {
  board: Board;
  /** Tarball to write. */
  out: string;
  suite?: string;
  mirror?: string;
  signal?: AbortSignal;
}

/** What an Outpost gateway needs from Debian beyond minbase, for a board. */
export function debianPackages(board: Board): string[] {
  const bootloader =
    board.bootloader.type === "grub-efi" ? [`grub-efi-${DEBIAN_ARCH[board.arch]}-bin`] : [];
  // make: software releases build with it; iproute2 and procps: the agent's partitions.
  return [
    "systemd-sysv",
    "udev",
    "kmod",
    "iproute2",
    "procps",
    "make",
    board.kernel.package,
    ...bootloader,
  ];
}

/**
 * A rootfs tarball from Debian (minbase plus `debianPackages`), for the builder's own
 * architecture only: a foreign one needs qemu-user and binfmt, which change the
 * machine. Package caches, docs, man pages and translations are left out. Written
 * beside `out` and renamed into place.
 */
export async function debootstrapRootfs(options: DebootstrapOptions): Promise<string> {
  const { board } = options;
  if (NODE_ARCH[board.arch] !== hostArch()) {
    throw new ImageInputError(
      `--debootstrap builds ${hostArch()} rootfs only; board ${board.id} is ${board.arch}: pass --rootfs with a tarball made on such a machine`,
      "arch",
    );
  }
  const work = mkdtempSync(join(dirname(options.out), ".outpost-debootstrap-"));
  const tree = join(work, "rootfs");
  try {
    await runTool(
      "debootstrap",
      [
        "--variant=minbase",
        `--arch=${DEBIAN_ARCH[board.arch]}`,
        `--include=${debianPackages(board).join(",")}`,
        options.suite ?? "bookworm",
        tree,
        options.mirror ?? "http://deb.debian.org/debian",
      ],
      { signal: options.signal },
    );
    await runTool(
      "sh",
      [
        "-c",
        'cd "$1" && rm -rf var/cache/apt/archives/*.deb var/lib/apt/lists/* usr/share/doc/* usr/share/man/* usr/share/info/* && find usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +',
        "sh",
        tree,
      ],
      { signal: options.signal },
    );
    const partial = join(work, basename(options.out));
    await runTool(
      "tar",
      ["--sort=name", "--numeric-owner", "--xattrs", "-C", tree, "-cf", partial, "."],
      { signal: options.signal },
    );
    renameSync(partial, options.out);
    return options.out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
