import type { BlockRange } from "../image-format/index.js";

/**
 * Collects mapped blocks in ascending order and merges neighbours into ranges. Blocks
 * must be added in ascending order (the image is assembled front to back).
 */
export class RangeCollector {
  readonly ranges: BlockRange[] = [];

  add(first: number, last = first): void {
    const tail = this.ranges.at(-1);
    if (tail && first <= tail.last + 1) tail.last = Math.max(tail.last, last);
    else this.ranges.push({ first, last });
  }

  get mappedBlocks(): number {
    return this.ranges.reduce((n, r) => n + r.last - r.first + 1, 0);
  }
}

export function isZero(block: Buffer): boolean {
  for (let i = 0; i < block.length; i += 8) {
    if (block.readBigUInt64LE(i) !== 0n) return false;
  }
  return true;
}

/**
 * Bytes at the start of a FAT filesystem that must reach the target even where zero:
 * reserved sectors, every FAT (a zero entry means a free cluster) and the FAT12/16 root
 * directory. Read from the boot sector's BPB.
 */
export function fatMetadataBytes(bootSector: Buffer): number {
  const bytesPerSector = bootSector.readUInt16LE(11);
  const reserved = bootSector.readUInt16LE(14);
  const fats = bootSector.readUInt8(16);
  const rootEntries = bootSector.readUInt16LE(17);
  const fatSectors = bootSector.readUInt16LE(22) || bootSector.readUInt32LE(36);
  const rootSectors = Math.ceil((rootEntries * 32) / bytesPerSector);
  return (reserved + fats * fatSectors + rootSectors) * bytesPerSector;
}
