import { nativeAddon } from "./addon.js";

/**
 * fallocate(2) modes, by friendly name. `collapseRange` removes [offset, offset+length)
 * and shifts the rest of the file down (block-aligned; not up to the end of the file;
 * ext4 and xfs, not tmpfs: EOPNOTSUPP); `punchHole` needs `keepSize`.
 */
export type FallocateFlag =
  | "keepSize"
  | "punchHole"
  | "collapseRange"
  | "zeroRange"
  | "insertRange";

function modeBits(mode: readonly FallocateFlag[]): number {
  const c = nativeAddon().fileSpaceConstants;
  const bits: Record<FallocateFlag, number> = {
    keepSize: c.FALLOC_FL_KEEP_SIZE,
    punchHole: c.FALLOC_FL_PUNCH_HOLE,
    collapseRange: c.FALLOC_FL_COLLAPSE_RANGE,
    zeroRange: c.FALLOC_FL_ZERO_RANGE,
    insertRange: c.FALLOC_FL_INSERT_RANGE,
  };
  return mode.reduce((acc, flag) => {
    const bit = bits[flag];
    if (bit === undefined) throw new TypeError(`unknown fallocate mode '${flag}'`);
    return acc | bit;
  }, 0);
}

function checkLength(name: string, v: number): void {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
    throw new RangeError(`${name} must be an integer >= 0`);
}

/**
 * fallocate(2) on `fd` (open for writing), run on a libuv worker thread: a collapse
 * first writes back the file's dirty pages, which may take a while for a file being
 * flooded. Keep `fd` open until the promise settles. Rejects like Node's own errors:
 * `code` (EOPNOTSUPP where the filesystem cannot, EINVAL for a misaligned range),
 * `errno`, `syscall: "fallocate"` and `path` when given.
 */
export function fallocate(
  fd: number,
  mode: readonly FallocateFlag[],
  offset: number,
  length: number,
  options: { path?: string } = {},
): Promise<void> {
  if (!Number.isInteger(fd) || fd < 0) throw new TypeError("fd must be a file descriptor");
  checkLength("offset", offset);
  checkLength("length", length);
  return nativeAddon().fallocate(fd, modeBits(mode), offset, length, options.path);
}
