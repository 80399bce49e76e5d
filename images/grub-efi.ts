import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Board } from "../boards/index.js";
import { initialSlotState, renderGrubEnv, renderGrubScript, slotVars } from "../ota/index.js";
import type { DiskPlan } from "./disk-plan.js";
import { ImageInputError } from "./errors.js";
import { runTool } from "./run-tool.js";

/** GRUB's platform directory and the removable-media file name UEFI firmware boots, per arch. */
const EFI: Record<Board["arch"], { platform: string; file: string }> = {
  x86_64: { platform: "x86_64-efi", file: "BOOTX64.EFI" },
  aarch64: { platform: "arm64-efi", file: "BOOTAA64.EFI" },
  armhf: { platform: "arm-efi", file: "BOOTARM.EFI" },
};

/** Where the A/B script and its environment block live on the ESP (GRUB's prefix). */
export const GRUB_PREFIX = "/EFI/outpost";

const MODULES = [
  "part_gpt",
  "fat",
  "ext2",
  "normal",
  "linux",
  "probe",
  "regexp",
  "loadenv",
  "test",
  "echo",
  "serial",
  "terminal",
  "gzio",
  "configfile",
];

/**
 * Fills the ESP tree: GRUB built with `grub-mkimage` from the rootfs's own GRUB modules
 * (so the bootloader matches the distribution the image carries) at the removable-media
 * path, the A/B script, and the environment block with slot A committed and B empty.
 */
export async function writeGrubEfi(
  board: Board,
  plan: DiskPlan,
  rootDir: string,
  bootDir: string,
  signal?: AbortSignal,
): Promise<void> {
  const { platform, file } = EFI[board.arch];
  const modules = join(rootDir, "usr/lib/grub", platform);
  if (!existsSync(join(modules, "normal.mod"))) {
    const pkg = `grub-efi-${board.arch === "x86_64" ? "amd64" : board.arch === "aarch64" ? "arm64" : "arm"}-bin`;
    throw new ImageInputError(
      `the rootfs has no GRUB modules in /usr/lib/grub/${platform}: install ${pkg} in it`,
      `/usr/lib/grub/${platform}`,
    );
  }
  mkdirSync(join(bootDir, "EFI/BOOT"), { recursive: true });
  mkdirSync(join(bootDir, GRUB_PREFIX), { recursive: true });
  await runTool(
    "grub-mkimage",
    [
      ...["-O", platform, "-d", modules, "-p", GRUB_PREFIX],
      ...["-o", join(bootDir, "EFI/BOOT", file)],
      ...MODULES,
    ],
    { signal },
  );
  const slot = (role: string) => plan.partitions.find((p) => p.role === role)?.partuuid as string;
  const serial = /^ttyS(\d+)(?:,(\d+))?$/.exec(board.console);
  writeFileSync(
    join(bootDir, GRUB_PREFIX, "grub.cfg"),
    renderGrubScript({
      partuuids: { a: slot("rootfs-a"), b: slot("rootfs-b") },
      partitions: plan.partitions.length,
      console: board.console,
      ...(serial
        ? { serial: { unit: Number(serial[1]), speed: Number(serial[2] ?? 115200) } }
        : {}),
    }),
  );
  writeFileSync(
    join(bootDir, GRUB_PREFIX, "grubenv"),
    renderGrubEnv(slotVars(initialSlotState()), "grubenv"),
  );
}
