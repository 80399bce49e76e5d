import { CodedError } from "../common/errors.js";
import type { Board } from "./schema.js";

/** A board file that passes its schema but contradicts itself; `key` names the offending key. */
export class BoardError extends CodedError {
  readonly code = "E_BOARD";
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`${key}: ${reason}`);
  }
}

const SECTOR = 512;
const GPT_ENTRY_BYTES = 128;

/**
 * Checks what a JSON Schema cannot: every role once, unique labels, the filesystem each
 * role needs, equal A/B slots, and a raw bootloader clear of the GPT and the first
 * partition. Throws the first BoardError found.
 */
export function checkBoard(board: Board): void {
  const { partitions } = board.layout;
  const seen = new Map<string, number>();
  partitions.forEach((p, i) => {
    const key = `layout.partitions[${i}]`;
    if (seen.has(p.role)) {
      throw new BoardError(
        `${key}.role`,
        `'${p.role}' already used by partition ${seen.get(p.role)}`,
      );
    }
    seen.set(p.role, i);
    if (partitions.findIndex((q) => q.label === p.label) !== i) {
      throw new BoardError(`${key}.label`, `label '${p.label}' is used twice`);
    }
    const wanted = p.role === "boot" ? "vfat" : "ext4";
    if (p.filesystem !== wanted) {
      throw new BoardError(`${key}.filesystem`, `a ${p.role} partition must be ${wanted}`);
    }
    if (p.filesystem === "vfat" && p.sizeMiB < 8) {
      throw new BoardError(`${key}.sizeMiB`, "a vfat partition needs at least 8 MiB");
    }
  });
  const a = partitions.find((p) => p.role === "rootfs-a");
  const bIndex = partitions.findIndex((p) => p.role === "rootfs-b");
  if (a && partitions[bIndex] && partitions[bIndex].sizeMiB !== a.sizeMiB) {
    throw new BoardError(
      `layout.partitions[${bIndex}].sizeMiB`,
      `rootfs-b must be the size of rootfs-a (${a.sizeMiB} MiB) so either slot takes any update`,
    );
  }
  const raw = board.bootloader.raw;
  if (raw) {
    const gptEnd = 2 * SECTOR + board.layout.gptEntries * GPT_ENTRY_BYTES;
    if (raw.offsetKiB * 1024 < gptEnd) {
      throw new BoardError(
        "bootloader.raw.offsetKiB",
        `overlaps the GPT (${board.layout.gptEntries} entries end at byte ${gptEnd}); lower layout.gptEntries`,
      );
    }
  }
  if (board.arch !== "x86_64" && board.toolchain === undefined) {
    throw new BoardError("toolchain", `an ${board.arch} board needs a cross toolchain file`);
  }
}
