import { closeSync, constants as fs, fstatSync, openSync, readdirSync } from "node:fs";
import {
  getProjectAttributes,
  getProjectQuota,
  openat2,
  type ProjectLimits,
  setProjectAttributes,
  setProjectQuota,
} from "../../native/index.js";
import { ProjectIdInUseError } from "../errors.js";

/**
 * Project ids the agent gives partitions: `0x4f500000 + (12 bits of a hash of the
 * agent's naming prefix) × 256 + N`. Each agent on a box (production, a demo, a test
 * run: see naming.ts) gets a block of 256 ids of its own, all within 0x4f500000 ..
 * 0x4f5fffff, which no distribution or tool hands out; an operator running project
 * quotas of their own keeps to other ids.
 */
export const PROJECT_ID_BASE = 0x4f50_0000;

export function projectIdOf(prefix: string, partition: number): number {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(prefix)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return PROJECT_ID_BASE + (h & 0xfff) * 256 + partition;
}

const OPEN_FLAGS = fs.O_RDONLY | fs.O_NOFOLLOW | fs.O_NONBLOCK | fs.O_NOCTTY;
const BELOW = { resolve: ["beneath", "noSymlinks", "noMagiclinks", "noXdev"] as const };

/**
 * Gives every file and directory below the directory `rootFd` is open on the project
 * id (directories with the inherit flag), depth first, each opened from `rootFd` by
 * relative path without following links. Symlinks and sockets cannot be opened and
 * keep their id (a few bytes each); anything gone meanwhile is skipped. Only needed
 * once, for what existed before the quota was turned on: later files inherit the id.
 */
function labelBelow(rootFd: number, path: string, id: number): void {
  const stack = ["."];
  while (stack.length > 0) {
    const rel = stack.pop() as string;
    let fd: number;
    try {
      fd = rel === "." ? rootFd : openat2(rootFd, rel, OPEN_FLAGS | fs.O_DIRECTORY, BELOW);
    } catch {
      continue;
    }
    try {
      for (const name of readdirSync(`/proc/self/fd/${fd}`)) {
        const childRel = rel === "." ? name : `${rel}/${name}`;
        let child: number;
        try {
          child = openat2(fd, name, OPEN_FLAGS, BELOW);
        } catch {
          continue; // a symlink (ELOOP), a socket (ENXIO), or gone
        }
        try {
          const dir = fstatSync(child).isDirectory();
          setProjectAttributes(child, `${path}/${childRel}`, id, { inherit: dir });
          if (dir) stack.push(childRel);
        } catch {
          // Changed under us: what it became is labeled where it is now, or not at all.
        } finally {
          closeSync(child);
        }
      }
    } finally {
      if (fd !== rootFd) closeSync(fd);
    }
  }
}

/**
 * Puts `dirs` (a partition's directory and its log directory, both made by the agent)
 * in project `id` with `limits`. A directory already in the project only gets the
 * limits (set again each time: the operator may have changed them). Otherwise the id
 * must be free (nothing charged to it, or our very limits), then limits are set,
 * everything already below is labeled, and the directory itself last, with the inherit
 * flag: an agent killed half-way finds the directory unlabeled and labels it all again. Each directory
 * is opened O_NOFOLLOW (it is the partition's to write in, not to rename: its parent
 * is root's). Throws the native error (`code`, `syscall`, `path`) or ProjectIdInUseError.
 */
export function applyProjectQuota(
  dirs: readonly string[],
  id: number,
  limits: ProjectLimits,
): void {
  const fds = dirs.map((d) => openSync(d, fs.O_RDONLY | fs.O_DIRECTORY | fs.O_NOFOLLOW));
  try {
    const [first, firstPath] = [fds[0] as number, dirs[0] as string];
    const fresh = dirs.filter(
      (_, i) => getProjectAttributes(fds[i] as number, dirs[i] as string).projectId !== id,
    );
    if (fresh.length > 0) {
      // Files charged to the id are someone else's, unless it has exactly our limits
      // (set before the labeling walk: an agent killed during it left them). Limits
      // with nothing charged (an uninstalled agent's) take nothing from anyone.
      const q = getProjectQuota(first, firstPath, id);
      const ours =
        q.blockHardBytes === Math.ceil(limits.bytes / 1024) * 1024 && q.inodeHard === limits.inodes;
      if ((q.spaceBytes > 0 || q.inodes > 0) && !ours)
        throw new ProjectIdInUseError(
          id,
          firstPath,
          `${q.spaceBytes} bytes and ${q.inodes} inodes charged to it, limits ${q.blockHardBytes} bytes, ${q.inodeHard} inodes`,
        );
    }
    setProjectQuota(first, firstPath, id, limits);
    dirs.forEach((dir, i) => {
      const fd = fds[i] as number;
      if (getProjectAttributes(fd, dir).projectId === id) return;
      labelBelow(fd, dir, id);
      setProjectAttributes(fd, dir, id, { inherit: true });
    });
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}
