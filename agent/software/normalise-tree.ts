import { chmodSync, lchownSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Setuid, setgid, sticky, group and world write: what no installed file keeps. */
const STRIPPED_BITS = 0o7022;

/**
 * Hands a built tree to root: every entry root-owned, no setuid/setgid bit, nothing
 * group- or world-writable, so partitions can read and run the release but never change
 * it. Runs once every process of the build is gone, so nothing moves under it; links
 * are never followed. Returns what it refused instead: an entry the build account does
 * not own (a hard link to someone else's file) or that is neither a file, a directory
 * nor a symlink (a FIFO, a socket).
 */
export function normaliseInstalledTree(dir: string, buildUid: number): string[] {
  const refused: string[] = [];
  const visit = (path: string): void => {
    const st = lstatSync(path);
    if (st.uid !== buildUid) {
      refused.push(`${path} is owned by uid ${st.uid}, not by the build account`);
      return;
    }
    if (!st.isFile() && !st.isDirectory() && !st.isSymbolicLink()) {
      refused.push(`${path} is neither a file, a directory nor a symlink`);
      return;
    }
    lchownSync(path, 0, 0);
    if (st.isSymbolicLink()) return;
    if ((st.mode & STRIPPED_BITS) !== 0) chmodSync(path, st.mode & 0o777 & ~STRIPPED_BITS);
    if (st.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
  };
  visit(dir);
  if (refused.length === 0) chmodSync(dir, 0o755);
  return refused;
}
