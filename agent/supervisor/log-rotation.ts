import { copyFileSync, existsSync, renameSync, statSync, truncateSync } from "node:fs";

export interface LogRotation {
  /** Rotate once the log is larger than this. */
  maxBytes: number;
  /** Rotated files kept: `<log>.1` (newest) … `<log>.<keep>`. */
  keep: number;
}

export const DEFAULT_LOG_ROTATION: LogRotation = { maxBytes: 10 * 1024 * 1024, keep: 3 };

/**
 * Rotates `file` when it is larger than `maxBytes`, by copy-then-truncate: the process
 * keeps its O_APPEND descriptor (it must, to survive an agent restart, so it writes the
 * file itself, not through us) and continues at the new end. Lines written between the
 * copy and the truncate are lost; that window is one file copy long. Returns whether it
 * rotated.
 */
export function rotateLog(file: string, rotation: LogRotation): boolean {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return false;
  }
  if (size <= rotation.maxBytes || rotation.keep < 1) return false;
  for (let i = rotation.keep - 1; i >= 1; i--) {
    if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
  }
  copyFileSync(file, `${file}.1`);
  truncateSync(file, 0);
  return true;
}
