import { randomBytes } from "node:crypto";
import {
  closeSync,
  fchmodSync,
  fchownSync,
  constants as fs,
  fstatSync,
  ftruncate,
  read,
  type Stats,
  write,
} from "node:fs";
import { basename, dirname } from "node:path";
import { promisify } from "node:util";
import {
  atFdcwd,
  fallocate,
  openat2,
  type ResolveFlag,
  renameat,
  unlinkat,
} from "../../native/index.js";

const readAt = promisify(read);
const writeAt = promisify(write);
const truncateFd = promisify(ftruncate);

export interface LogRotation {
  /** Rotate once the log is larger than this. */
  maxBytes: number;
  /** Rotated files kept: `<log>.1` (newest) … `<log>.<keep>`. */
  keep: number;
}

export const DEFAULT_LOG_ROTATION: LogRotation = { maxBytes: 10 * 1024 * 1024, keep: 3 };

/** How the head of a log left it: see rotateLog. */
export type RotationMethod = "collapse" | "copy-truncate";

export type RotationOutcome =
  | {
      rotated: false;
      /** The log's size when checked (absent: no log yet). */
      size?: number;
      /** Why the file was left alone: it is not a regular file, or a link. */
      refused?: string;
    }
  | {
      rotated: true;
      method: RotationMethod;
      /** The log's size when rotated. */
      size: number;
      /** Bytes that went to `<log>.1`. */
      kept: number;
      /** Bytes of the head neither kept nor left in the log (over `copyLimit`, or `drop`). */
      dropped: number;
    };

export interface RotateOptions {
  /** Drop the head without keeping it (no `.1`, no shift): a flood between two copies. */
  drop?: boolean;
  /** Most bytes of the head copied to `.1`, its newest (default 2 × maxBytes). */
  copyLimit?: number;
  /** Whether FALLOC_FL_COLLAPSE_RANGE may be tried (default true); see collapseSupported. */
  collapse?: boolean;
}

/** No link anywhere, no way out of the log directory. */
const STRICT: readonly ResolveFlag[] = ["beneath", "noSymlinks", "noMagiclinks"];
const COPY_CHUNK = 1 << 20;

/** Filesystems (st_dev) known to refuse or accept collapse-range, found by a probe file. */
const collapseByDevice = new Map<number, boolean>();

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

function unlinkQuietly(dirfd: number, name: string): void {
  try {
    unlinkat(dirfd, name);
  } catch {
    // gone already
  }
}

/**
 * Whether the filesystem of `dirfd` collapses ranges: a probe file of two blocks made
 * in the directory loses its first. Cached per device: ext4 and xfs do, tmpfs does not.
 */
export async function collapseSupported(
  dirfd: number,
  dev: number,
  blockSize: number,
): Promise<boolean> {
  const known = collapseByDevice.get(dev);
  if (known !== undefined) return known;
  const name = `.collapse-probe-${randomBytes(6).toString("hex")}`;
  const fd = openat2(dirfd, name, fs.O_RDWR | fs.O_CREAT | fs.O_EXCL | fs.O_NOFOLLOW, {
    mode: 0o600,
    resolve: STRICT,
  });
  try {
    await writeAt(fd, Buffer.alloc(2 * blockSize, 0x61), 0, 2 * blockSize, 0);
    await fallocate(fd, ["collapseRange"], 0, blockSize);
    collapseByDevice.set(dev, true);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EOPNOTSUPP" && code !== "EINVAL" && code !== "ENOSYS") throw err;
    collapseByDevice.set(dev, false);
    return false;
  } finally {
    closeQuietly(fd);
    unlinkQuietly(dirfd, name);
  }
}

/** Copies [start, end) of `from` to the start of `to`; returns how much (less if it shrank). */
async function copyRange(from: number, to: number, start: number, end: number): Promise<number> {
  const buffer = Buffer.allocUnsafe(Math.min(COPY_CHUNK, Math.max(end - start, 1)));
  let done = 0;
  while (start + done < end) {
    const want = Math.min(buffer.length, end - start - done);
    const { bytesRead } = await readAt(from, buffer, 0, want, start + done);
    if (bytesRead === 0) break;
    let written = 0;
    while (written < bytesRead)
      written += (await writeAt(to, buffer, written, bytesRead - written, done + written))
        .bytesWritten;
    done += bytesRead;
  }
  return done;
}

/**
 * The log's head [start, end) into a new `<log>.1`, after shifting `.1`… to `.2`… (the
 * oldest beyond `keep` is replaced). Written to a fresh file of an unpredictable name
 * (O_EXCL, O_NOFOLLOW), owned and moded like the log, then renamed into place.
 */
async function keepHead(
  dirfd: number,
  base: string,
  fd: number,
  st: Stats,
  range: { start: number; end: number },
  keep: number,
): Promise<number> {
  const temp = `.${base}.rotating-${randomBytes(6).toString("hex")}`;
  const out = openat2(dirfd, temp, fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL | fs.O_NOFOLLOW, {
    mode: 0o600,
    resolve: STRICT,
  });
  try {
    fchownSync(out, st.uid, st.gid);
    fchmodSync(out, st.mode & 0o777);
    const copied = await copyRange(fd, out, range.start, range.end);
    for (let i = keep - 1; i >= 1; i--) {
      try {
        renameat(dirfd, `${base}.${i}`, dirfd, `${base}.${i + 1}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }
    renameat(dirfd, temp, dirfd, `${base}.1`);
    return copied;
  } catch (err) {
    unlinkQuietly(dirfd, temp);
    throw err;
  } finally {
    closeSync(out);
  }
}

/**
 * Rotates `file` when it is larger than `maxBytes`. The process writing it keeps its
 * own O_APPEND descriptor (so it survives an agent restart), so the file is never
 * renamed; its head is cut instead:
 *
 * - **collapse** (ext4, xfs): the head up to the last whole block before the end is
 *   copied to `<log>.1` (its newest `copyLimit` bytes), then removed from the file with
 *   fallocate(FALLOC_FL_COLLAPSE_RANGE). The kernel shifts what follows down under the
 *   inode lock, and appends go on at the new end: nothing written meanwhile is lost. A
 *   line may be split at the block boundary; `.1` followed by the log is the exact byte
 *   stream.
 * - **copy-truncate** (tmpfs, other filesystems, a log smaller than one block past
 *   `maxBytes`): the whole file is copied, then truncated to 0; lines written between
 *   the copy and the truncate are lost.
 *
 * The log and its directory are opened fd-relative without following links; a link,
 * FIFO, socket or device at the log's name is left alone and reported as `refused`.
 */
export async function rotateLog(
  file: string,
  rotation: LogRotation,
  options: RotateOptions = {},
): Promise<RotationOutcome> {
  const dirfd = openat2(atFdcwd(), dirname(file), fs.O_RDONLY | fs.O_DIRECTORY);
  try {
    const base = basename(file);
    let fd: number;
    try {
      fd = openat2(dirfd, base, fs.O_RDWR | fs.O_NOFOLLOW | fs.O_NONBLOCK, { resolve: STRICT });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return { rotated: false };
      if (code === "ELOOP" || code === "ENXIO" || code === "EISDIR")
        return { rotated: false, refused: `not a regular file (${code})` };
      throw err;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return { rotated: false, refused: "not a regular file" };
      const size = st.size;
      if (size <= rotation.maxBytes || rotation.keep < 1) return { rotated: false, size };
      const block = st.blksize > 0 ? st.blksize : 4096;
      const cut = Math.floor((size - 1) / block) * block;
      const collapse =
        options.collapse !== false && cut > 0 && (await collapseSupported(dirfd, st.dev, block));
      const end = collapse ? cut : size;
      const limit = options.copyLimit ?? 2 * rotation.maxBytes;
      const start = options.drop ? end : Math.max(0, end - limit);
      const kept =
        start < end ? await keepHead(dirfd, base, fd, st, { start, end }, rotation.keep) : 0;
      if (collapse) await fallocate(fd, ["collapseRange"], 0, cut, { path: file });
      else await truncateFd(fd, 0);
      return {
        rotated: true,
        method: collapse ? "collapse" : "copy-truncate",
        size,
        kept,
        dropped: end - kept,
      };
    } finally {
      closeSync(fd);
    }
  } finally {
    closeSync(dirfd);
  }
}
