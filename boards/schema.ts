/** One partition of a board's disk layout, in disk order. */
export interface BoardPartition {
  /** GPT PARTLABEL; the system finds partitions by it (or by PARTUUID), never by order. */
  label: string;
  /** What the partition holds; `boot` is the ESP on EFI boards, the firmware partition elsewhere. */
  role: "boot" | "rootfs-a" | "rootfs-b" | "data";
  sizeMiB: number;
  filesystem: "vfat" | "ext4";
}

export type Arch = "x86_64" | "aarch64" | "armhf";

/** A board definition as read from `boards/<id>.yaml`, defaults filled in. */
export interface Board {
  id: string;
  description: string;
  arch: Arch;
  bootloader: {
    type: "grub-efi" | "u-boot" | "rpi-firmware";
    /** How the A/B slot is chosen at boot. */
    slotSelection: "grub-env" | "u-boot-bootcount" | "tryboot";
    /** A raw bootloader written outside any partition (Allwinner SPL at 8 KiB), from the rootfs. */
    raw?: { path: string; offsetKiB: number };
  };
  console: string;
  /** The disk the image is flashed to, as the running board's kernel names it. */
  storage: string;
  kernel: { package: string; realtime: boolean; deviceTree?: string };
  cpus: { housekeeping: string; realtime: string };
  /** CMake toolchain file for the cross-built addon, relative to `boards/`. */
  toolchain?: string;
  qemu?: { binary: string; machine: string; cpu: string; firmware?: string };
  layout: {
    /** GPT partition entries; fewer than 128 keeps the table clear of a raw bootloader. */
    gptEntries: number;
    firstOffsetMiB: number;
    partitions: BoardPartition[];
  };
}

const cpuList = { type: "string", pattern: "^\\d+(-\\d+)?(,\\d+(-\\d+)?)*$" } as const;

/** JSON Schema of a board file; load it with `cli/config`'s `loadConfigFile`. */
export const boardSchema = {
  $id: "https://outpost.dev/schemas/board.json",
  type: "object",
  additionalProperties: false,
  required: [
    "id",
    "description",
    "arch",
    "bootloader",
    "console",
    "storage",
    "kernel",
    "cpus",
    "layout",
  ],
  properties: {
    id: { type: "string", pattern: "^[a-z0-9][a-z0-9_-]*$", maxLength: 64 },
    description: { type: "string", minLength: 1 },
    arch: { enum: ["x86_64", "aarch64", "armhf"] },
    bootloader: {
      type: "object",
      additionalProperties: false,
      required: ["type", "slotSelection"],
      properties: {
        type: { enum: ["grub-efi", "u-boot", "rpi-firmware"] },
        slotSelection: { enum: ["grub-env", "u-boot-bootcount", "tryboot"] },
        raw: {
          type: "object",
          additionalProperties: false,
          required: ["path", "offsetKiB"],
          properties: {
            path: { type: "string", pattern: "^/" },
            offsetKiB: { type: "integer", minimum: 1, maximum: 1023 },
          },
        },
      },
    },
    console: { type: "string", pattern: "^tty[A-Za-z]*\\d+(,\\d+)?$" },
    storage: { type: "string", pattern: "^/dev/" },
    kernel: {
      type: "object",
      additionalProperties: false,
      required: ["package", "realtime"],
      properties: {
        package: { type: "string", pattern: "^linux-image-[a-z0-9.+-]+$" },
        realtime: { type: "boolean" },
        deviceTree: { type: "string", pattern: "\\.dtb$" },
      },
    },
    cpus: {
      type: "object",
      additionalProperties: false,
      required: ["housekeeping", "realtime"],
      properties: { housekeeping: cpuList, realtime: { anyOf: [cpuList, { const: "" }] } },
    },
    toolchain: { type: "string", pattern: "^toolchains/[A-Za-z0-9._-]+\\.cmake$" },
    qemu: {
      type: "object",
      additionalProperties: false,
      required: ["binary", "machine", "cpu"],
      properties: {
        binary: { type: "string", pattern: "^qemu-system-" },
        machine: { type: "string" },
        cpu: { type: "string" },
        firmware: { type: "string", pattern: "^/" },
      },
    },
    layout: {
      type: "object",
      additionalProperties: false,
      required: ["partitions"],
      properties: {
        gptEntries: { type: "integer", minimum: 4, maximum: 128, default: 128 },
        firstOffsetMiB: { type: "integer", minimum: 1, maximum: 64, default: 1 },
        partitions: {
          type: "array",
          minItems: 4,
          maxItems: 4,
          items: {
            type: "object",
            additionalProperties: false,
            required: ["label", "role", "sizeMiB", "filesystem"],
            properties: {
              label: { type: "string", pattern: "^[A-Za-z0-9_-]{1,36}$" },
              role: { enum: ["boot", "rootfs-a", "rootfs-b", "data"] },
              sizeMiB: { type: "integer", minimum: 1, maximum: 1048576 },
              filesystem: { enum: ["vfat", "ext4"] },
            },
          },
        },
      },
    },
  },
} as const;
