import { randomBytes } from "node:crypto";
import { closeSync, fchmodSync, fchownSync, constants as fs, fsyncSync, writeSync } from "node:fs";
import { posix } from "node:path";
import { hasCode } from "../../common/errors.js";
import {
  atFdcwd,
  mkdirat,
  openat2,
  type ResolveFlag,
  renameat,
  unlinkat,
} from "../../native/index.js";
import { BeneathError } from "../errors.js";

/** No symlink anywhere, no `..` or absolute path out of the root, no /proc magic link. */
const STRICT: readonly ResolveFlag[] = ["beneath", "noSymlinks", "noMagiclinks"];

export interface Owner {
  uid: number;
  gid: number;
}

export interface WriteBeneathOptions {
  mode: number;
  /** The file's owner (default: the agent's own uid and gid). */
  owner?: Owner;
  /** Directories made on the way: their mode (default 0755) and owner (default `owner`). */
  dirMode?: number;
  /** Flush the file and the directory entry to disk (default true). */
  durable?: boolean;
}

function reasonOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case "ELOOP":
      return "a symbolic link is in the way (refused)";
    case "EXDEV":
      return "the path leaves its directory (refused)";
    case "ENOTDIR":
      return "a component is not a directory";
    case "EISDIR":
      return "a directory is in the way";
    case "EAGAIN":
      return "the directory kept changing while it was resolved (refused)";
    default:
      return e.code ? `${e.code}${e.syscall ? ` (${e.syscall})` : ""}` : String(err);
  }
}

/** `rel` split into components; anything that is not a plain relative path is refused. */
function components(root: string, rel: string): string[] {
  const parts = rel.split("/").filter((p) => p !== "" && p !== ".");
  if (posix.isAbsolute(rel) || parts.length === 0 || parts.includes(".."))
    throw new BeneathError(posix.join(root, rel), "not a plain relative path (refused)");
  return parts;
}

function withFd<T>(fd: number, run: (fd: number) => T): T {
  try {
    return run(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The root is a path the agent chose and whose parent no release or partition can write
 * (the data dir, `partitions/pN`): it may be a link an operator made (`--data` on another
 * disk). Below it, nothing is followed.
 */
function openRoot(root: string): number {
  return openat2(atFdcwd(), root, fs.O_RDONLY | fs.O_DIRECTORY);
}

/**
 * A directory fd for `dirParts` below `rootFd`, each component resolved without links;
 * missing ones are made with `mode` and `owner` when `create` is given.
 */
function openDir(
  rootFd: number,
  dirParts: readonly string[],
  create: { mode: number; owner?: Owner } | undefined,
): number {
  let fd = openat2(rootFd, ".", fs.O_RDONLY | fs.O_DIRECTORY, { resolve: STRICT });
  for (const part of dirParts) {
    let next: number;
    try {
      next = openat2(fd, part, fs.O_RDONLY | fs.O_DIRECTORY, { resolve: STRICT });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" || !create) {
        closeSync(fd);
        throw err;
      }
      try {
        mkdirat(fd, part, create.mode);
      } catch (mkErr) {
        if ((mkErr as NodeJS.ErrnoException).code !== "EEXIST") {
          closeSync(fd);
          throw mkErr;
        }
      }
      next = openat2(fd, part, fs.O_RDONLY | fs.O_DIRECTORY, { resolve: STRICT });
      if (create.owner) fchownSync(next, create.owner.uid, create.owner.gid);
    }
    closeSync(fd);
    fd = next;
  }
  return fd;
}

/**
 * Replaces `root/rel` with `data` as root may safely do in a tree someone else can
 * write: every component resolved fd-relative with no symlink and no way out of `root`,
 * the content written to a new file of an unpredictable name (O_EXCL, O_NOFOLLOW,
 * O_NONBLOCK: never an existing file, link or FIFO), then renamed over the target. A
 * link or FIFO planted at the target is replaced, never followed. After a crash the
 * target holds the old or the new content.
 */
export function writeFileBeneath(
  root: string,
  rel: string,
  data: string | Uint8Array,
  options: WriteBeneathOptions,
): void {
  const parts = components(root, rel);
  const name = parts.pop() as string;
  const where = posix.join(root, rel);
  const durable = options.durable ?? true;
  try {
    withFd(openRoot(root), (rootFd) =>
      withFd(
        openDir(rootFd, parts, {
          mode: options.dirMode ?? 0o755,
          ...(options.owner ? { owner: options.owner } : {}),
        }),
        (dirFd) => {
          const tmp = `.${name.slice(0, 200)}.${randomBytes(8).toString("hex")}.tmp`;
          const fd = openat2(
            dirFd,
            tmp,
            fs.O_WRONLY | fs.O_CREAT | fs.O_EXCL | fs.O_NOFOLLOW | fs.O_NONBLOCK,
            { mode: 0o600, resolve: STRICT },
          );
          try {
            withFd(fd, () => {
              const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
              for (let off = 0; off < bytes.length; )
                off += writeSync(fd, bytes, off, bytes.length - off);
              if (options.owner) fchownSync(fd, options.owner.uid, options.owner.gid);
              fchmodSync(fd, options.mode);
              if (durable) fsyncSync(fd);
            });
            renameat(dirFd, tmp, dirFd, name);
          } catch (err) {
            try {
              unlinkat(dirFd, tmp);
            } catch {
              // Not created, or already renamed: nothing to take back.
            }
            throw err;
          }
          if (durable) fsyncSync(dirFd);
        },
      ),
    );
  } catch (err) {
    if (hasCode(err, "E_AGENT_PATH")) throw err;
    throw new BeneathError(where, reasonOf(err), { cause: err });
  }
}
