import { closeSync, constants as fs, fstatSync, openSync } from "node:fs";
import { lstat, opendir } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { openat2 } from "../../native/index.js";

/** Space and inodes below some directories, as far as a walk got. */
export interface DiskUsage {
  /** Allocated space (st_blocks × 512, not apparent size: sparse files count what they hold). */
  bytes: number;
  inodes: number;
  /** False when the walk stopped early (over `stopAbove`, or aborted). */
  complete: boolean;
}

/** How fast a walk may go: after each `batch` entries it pauses `pauseMs`. */
export interface WalkPace {
  batch: number;
  pauseMs: number;
}

export const DEFAULT_WALK_PACE: WalkPace = { batch: 1000, pauseMs: 50 };

/** Past this many bytes of relative path, a subtree is walked from a descriptor of its own. */
const REANCHOR_AT = 2048;
/** Hard-linked inodes remembered per walk (to count each once); past it they count again. */
const MAX_LINKED = 100_000;

const DIR_FLAGS = fs.O_RDONLY | fs.O_DIRECTORY | fs.O_NONBLOCK;
const BELOW = { resolve: ["beneath", "noSymlinks", "noMagiclinks", "noXdev"] as const };

class Walk {
  bytes = 0;
  inodes = 0;
  stopped = false;
  private seen = 0;
  private readonly linked = new Set<number>();

  constructor(
    private readonly pace: WalkPace,
    private readonly stopAbove: { bytes: number; inodes: number } | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {}

  count(st: { blocks: number; nlink: number; ino: number; isDirectory(): boolean }): void {
    if (!st.isDirectory() && st.nlink > 1) {
      if (this.linked.has(st.ino)) return;
      if (this.linked.size < MAX_LINKED) this.linked.add(st.ino);
    }
    this.bytes += st.blocks * 512;
    this.inodes += 1;
    const over =
      this.stopAbove !== undefined &&
      (this.bytes > this.stopAbove.bytes || this.inodes > this.stopAbove.inodes);
    if (over || this.signal?.aborted) this.stopped = true;
  }

  async step(): Promise<void> {
    if (++this.seen % this.pace.batch === 0) await sleep(this.pace.pauseMs);
  }

  /**
   * Every entry below the directory `rootFd` is open on, depth first. Directories are
   * opened from `rootFd` by relative path with openat2 (never out of it, no link
   * followed, not across mounts), so a partition swapping a directory for a symlink
   * mid-walk gets it skipped, not followed; entries are lstat'ed through the open
   * directory (`/proc/self/fd/N/NAME`), so no path is resolved by name twice.
   */
  async tree(rootFd: number, dev: number): Promise<void> {
    const stack = ["."];
    while (stack.length > 0 && !this.stopped) {
      const rel = stack.pop() as string;
      let fd: number;
      try {
        fd = rel === "." ? rootFd : openat2(rootFd, rel, DIR_FLAGS, BELOW);
      } catch {
        continue; // gone, or no longer a directory: nothing to count
      }
      try {
        const dir = await opendir(`/proc/self/fd/${fd}`, { bufferSize: 256 });
        for await (const entry of dir) {
          await this.step();
          let st: Awaited<ReturnType<typeof lstat>>;
          try {
            st = await lstat(`/proc/self/fd/${fd}/${entry.name}`);
          } catch {
            continue;
          }
          this.count(st);
          if (this.stopped) break;
          if (!st.isDirectory() || st.dev !== dev) continue;
          const child = rel === "." ? entry.name : `${rel}/${entry.name}`;
          if (child.length < REANCHOR_AT) {
            stack.push(child);
            continue;
          }
          // A deep tree: its relative paths would pass PATH_MAX, so it gets a root of its own.
          let sub: number;
          try {
            sub = openat2(fd, entry.name, DIR_FLAGS, BELOW);
          } catch {
            continue;
          }
          try {
            await this.tree(sub, dev);
          } finally {
            closeSync(sub);
          }
          if (this.stopped) break;
        }
      } catch {
        // The directory went away while read: what was counted stays counted.
      } finally {
        if (fd !== rootFd) closeSync(fd);
      }
    }
  }
}

/**
 * Measures what `roots` (directories someone else controls: a partition's directory and
 * its logs) take on disk: every entry's allocated blocks, each hard-linked inode once,
 * directories included; nothing is followed (no symlink, no mount point crossed). The
 * walk is paced (`pace`) so a partition of millions of files costs the agent time, not
 * a stall, and stops early once `stopAbove` is passed: an instance over its limit is
 * known without counting the rest. A root that does not exist counts nothing.
 */
export async function measureDiskUsage(
  roots: readonly string[],
  options: {
    pace?: WalkPace;
    stopAbove?: { bytes: number; inodes: number };
    signal?: AbortSignal;
  } = {},
): Promise<DiskUsage> {
  const walk = new Walk(options.pace ?? DEFAULT_WALK_PACE, options.stopAbove, options.signal);
  for (const root of roots) {
    if (walk.stopped) break;
    let fd: number;
    try {
      // The root itself may be an operator's symlink (a data dir on another disk).
      fd = openSync(root, DIR_FLAGS);
    } catch {
      continue;
    }
    try {
      const self = fstatSync(fd);
      walk.count(self);
      await walk.tree(fd, self.dev);
    } finally {
      closeSync(fd);
    }
  }
  return { bytes: walk.bytes, inodes: walk.inodes, complete: !walk.stopped };
}
