import { execFileSync } from "node:child_process";
import { chownSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A board small enough to build in well under a second: 8 MiB ESP, 16 MiB slots, 8 MiB data. */
export const TINY_BOARD = `id: tiny
description: tiny test board
arch: x86_64
bootloader: { type: grub-efi, slotSelection: grub-env }
console: ttyS0,115200
storage: /dev/vda
kernel: { package: linux-image-amd64, realtime: false }
cpus: { housekeeping: "0", realtime: "" }
layout:
  partitions:
    - { label: boot, role: boot, sizeMiB: 8, filesystem: vfat }
    - { label: rootfs-a, role: rootfs-a, sizeMiB: 16, filesystem: ext4 }
    - { label: rootfs-b, role: rootfs-b, sizeMiB: 16, filesystem: ext4 }
    - { label: data, role: data, sizeMiB: 8, filesystem: ext4 }
`;

/**
 * Writes a small rootfs tarball (a few files, a symlink, a file owned by uid 1234 with
 * mode 0600, an ESP tree under boot/efi) into `dir`, and the tiny board file; returns
 * both paths. Built fresh with tar, as a user's debootstrap tarball would be.
 */
export function makeFixture(dir: string): { rootfs: string; board: string } {
  const src = join(dir, "src");
  mkdirSync(join(src, "etc"), { recursive: true });
  mkdirSync(join(src, "usr/bin"), { recursive: true });
  mkdirSync(join(src, "boot/efi/EFI/BOOT"), { recursive: true });
  writeFileSync(join(src, "etc/hostname"), "outpost-test\n");
  writeFileSync(join(src, "etc/secret"), "only root\n", { mode: 0o600 });
  chownSync(join(src, "etc/secret"), 1234, 1234);
  writeFileSync(join(src, "usr/bin/tool"), Buffer.alloc(20_000, 7), { mode: 0o755 });
  symlinkSync("../etc/hostname", join(src, "usr/hostname-link"));
  // Names debugfs must be told exactly: systemd escapes with backslashes; a quote.
  writeFileSync(join(src, "etc/system-systemd\\x2dcryptsetup.slice"), "[Unit]\n");
  writeFileSync(join(src, 'etc/say "hi"'), "hi\n");
  writeFileSync(join(src, "boot/efi/EFI/BOOT/BOOTX64.EFI"), "not really an EFI binary\n");
  const rootfs = join(dir, "rootfs.tar.gz");
  execFileSync("tar", ["--numeric-owner", "-czf", rootfs, "-C", src, "."]);
  const board = join(dir, "tiny.yaml");
  writeFileSync(board, TINY_BOARD);
  return { rootfs, board };
}
