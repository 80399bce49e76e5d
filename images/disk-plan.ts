import type { Board, BoardPartition } from "../boards/index.js";
import { pinnedUuid } from "./pinned-uuid.js";

const MiB = 1024 * 1024;
const SECTOR = 512;
/** GPT type GUIDs sfdisk writes: EFI System, Linux filesystem. */
const TYPE_ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
const TYPE_LINUX = "0FC63DAF-8483-4772-8E79-3D69145C1279";

export interface PlannedPartition extends BoardPartition {
  /** Byte offset in the disk image. */
  offset: number;
  size: number;
  partuuid: string;
  /** ext4 UUID (also the htree hash seed), or the vfat volume id (8 hex digits). */
  fsId: string;
}

export interface DiskPlan {
  board: string;
  diskGuid: string;
  /** Whole image, including the backup GPT after the last partition. */
  size: number;
  gptEntries: number;
  partitions: PlannedPartition[];
}

/** Where every partition goes and which ids it gets; no I/O, so it is testable on its own. */
export function planDisk(board: Board): DiskPlan {
  let offset = board.layout.firstOffsetMiB * MiB;
  const partitions = board.layout.partitions.map((p) => {
    const planned: PlannedPartition = {
      ...p,
      offset,
      size: p.sizeMiB * MiB,
      partuuid: pinnedUuid(board.id, "partuuid", p.label),
      fsId:
        p.filesystem === "vfat"
          ? pinnedUuid(board.id, "volid", p.label).slice(0, 8)
          : pinnedUuid(board.id, "fs", p.label),
    };
    offset += planned.size;
    return planned;
  });
  // One MiB at the end holds the backup GPT and keeps the image MiB-aligned.
  return {
    board: board.id,
    diskGuid: pinnedUuid(board.id, "disk"),
    size: offset + MiB,
    gptEntries: board.layout.gptEntries,
    partitions,
  };
}

/** The sfdisk script that writes the plan's GPT. */
export function sfdiskScript(plan: DiskPlan): string {
  const lines = [
    "label: gpt",
    `label-id: ${plan.diskGuid.toUpperCase()}`,
    "unit: sectors",
    `table-length: ${plan.gptEntries}`,
    "sector-size: 512",
    "",
  ];
  for (const p of plan.partitions) {
    const type = p.role === "boot" ? TYPE_ESP : TYPE_LINUX;
    lines.push(
      `start=${p.offset / SECTOR}, size=${p.size / SECTOR}, type=${type}, uuid=${p.partuuid.toUpperCase()}, name="${p.label}"`,
    );
  }
  return `${lines.join("\n")}\n`;
}
