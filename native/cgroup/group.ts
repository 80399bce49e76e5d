import { existsSync, mkdirSync, readFileSync, rmdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { readControl, writeControl } from "./control-file.js";
import {
  CgroupExistsError,
  CgroupParentMissingError,
  CgroupTimeoutError,
  CgroupUnsupportedError,
} from "./errors.js";
import {
  allDirs,
  type CgroupDirs,
  type CgroupLayout,
  childDirs,
  dirsOfMembership,
  readCgroupLayout,
} from "./layout.js";
import { type CgroupLimits, validateLimits } from "./limits.js";
import { readCgroupMembership } from "./own-cgroup.js";
import {
  applyLimitsV1,
  freeRtRuntimeV1,
  inheritCpusetV1,
  isFrozenV1,
  setFrozenV1,
  statsV1,
} from "./v1.js";
import {
  applyLimitsV2,
  controllersFor,
  enableControllersV2,
  hasFreezeV2,
  isFrozenV2,
  isPopulatedV2,
  killV2,
  setFrozenV2,
  statsV2,
} from "./v2.js";
import { parsePids } from "./values.js";

/** Usage of a group; a field is absent when no mounted controller reports it. */
export interface CgroupStats {
  cpuUsageUs?: number;
  memoryCurrent?: number;
  /** Highest memory use seen (v2 `memory.peak`, Linux 5.19; v1 `memory.max_usage_in_bytes`). */
  memoryPeak?: number;
  pidsCurrent?: number;
  /** Processes the kernel OOM-killed in this group. */
  oomKills?: number;
}

/** Where a spawned child joins this group: see native/spawn.ts. */
export interface SpawnCgroupTarget {
  /** `cgroup.procs` files (cgroup2 first, then each v1 hierarchy) the child writes itself into before exec. */
  cgroupProcs: string[];
}

const NAME = /^[A-Za-z0-9_@:+-][A-Za-z0-9_.@:+-]*$/;
const POLL_MS = 10;
export const DEFAULT_CGROUP_TIMEOUT_MS = 5000;

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/**
 * One group across every mounted hierarchy: its directory in the unified tree (v2, or
 * the controller-less cgroup2 of hybrid, used there for membership, freeze and kill)
 * and one per v1 controller. Resource settings go to the v1 controller when the
 * machine has it on v1, to the unified tree otherwise.
 */
export class Cgroup {
  constructor(
    readonly layout: CgroupLayout,
    readonly dirs: CgroupDirs,
  ) {}

  /** The caller's own cgroups (from /proc/self/cgroup). */
  static own(layout: CgroupLayout = readCgroupLayout()): Cgroup {
    return new Cgroup(layout, dirsOfMembership(layout, readCgroupMembership()));
  }

  /** The group's directory in the unified tree, else its first v1 directory: for messages. */
  get path(): string {
    return this.dirs.unified ?? allDirs(this.dirs)[0] ?? "(no cgroup hierarchy)";
  }

  /**
   * Creates `name` below this group in every hierarchy and applies `limits`. Creation
   * is all-or-nothing: on any failure the directories made so far are removed.
   */
  createChild(name: string, limits: CgroupLimits = {}): Cgroup {
    if (typeof name !== "string" || !NAME.test(name) || name === "..") {
      throw new TypeError(
        `cgroup name '${String(name)}' must be letters, digits and _.@:+- (no '/')`,
      );
    }
    validateLimits(limits);
    for (const dir of allDirs(this.dirs))
      if (!existsSync(dir)) throw new CgroupParentMissingError(dir);
    if (this.layout.mode === "v2" && this.dirs.unified !== undefined) {
      enableControllersV2(this.dirs.unified, controllersFor(limits), this.layout.unified);
    }
    const child = new Cgroup(this.layout, childDirs(this.dirs, name));
    const made: string[] = [];
    try {
      for (const dir of allDirs(child.dirs)) {
        try {
          mkdirSync(dir);
        } catch (err) {
          if (errnoCode(err) === "EEXIST") throw new CgroupExistsError(dir);
          throw err;
        }
        made.push(dir);
      }
      const cpuset = child.dirs.v1.cpuset;
      const parentCpuset = this.dirs.v1.cpuset;
      if (cpuset !== undefined && parentCpuset !== undefined) inheritCpusetV1(cpuset, parentCpuset);
      child.setLimits(limits);
    } catch (err) {
      for (const dir of made.reverse()) rmdirSync(dir);
      throw err;
    }
    return child;
  }

  setLimits(limits: CgroupLimits): void {
    validateLimits(limits);
    const v1 = this.dirs.v1;
    const onV1: CgroupLimits = {};
    const onV2: CgroupLimits = {};
    const route = <K extends keyof CgroupLimits>(key: K, controller: keyof typeof v1) => {
      if (limits[key] === undefined) return;
      (v1[controller] !== undefined ? onV1 : onV2)[key] = limits[key];
    };
    route("cpuCores", "cpu");
    route("cpuWeight", "cpu");
    route("rtRuntimeUs", "cpu");
    route("memoryMax", "memory");
    route("pidsMax", "pids");
    route("cpus", "cpuset");
    route("mems", "cpuset");
    route("partition", "cpuset");
    applyLimitsV1(v1, onV1);
    if (Object.keys(onV2).length === 0) return;
    if (onV2.rtRuntimeUs !== undefined) {
      throw new CgroupUnsupportedError("rtRuntimeUs", "cgroup v2 has no RT bandwidth per group");
    }
    if (this.layout.mode !== "v2" || this.dirs.unified === undefined) {
      const missing = Object.keys(onV2).join(", ");
      throw new CgroupUnsupportedError(
        missing,
        `no controller for it is mounted (cgroup mode ${this.layout.mode})`,
      );
    }
    // A group opened as it was (after an agent restart) or made without limits may
    // sit below parents that never enabled these controllers.
    const offered = readControl(this.dirs.unified, "cgroup.controllers").split(/\s+/);
    const lacking = controllersFor(onV2).filter((c) => !offered.includes(c));
    if (lacking.length > 0 && this.dirs.unified !== this.layout.unified) {
      enableControllersV2(dirname(this.dirs.unified), lacking, this.layout.unified);
    }
    applyLimitsV2(this.dirs.unified, onV2);
  }

  /** RT runtime (µs per period) still free for a new child of this group; v1 cpu only. */
  freeRtRuntimeUs(): number | undefined {
    const cpu = this.dirs.v1.cpu;
    return cpu === undefined ? undefined : freeRtRuntimeV1(cpu);
  }

  /** Moves a process (all its threads) into the group in every hierarchy. */
  attach(pid: number): void {
    if (!Number.isInteger(pid) || pid <= 0)
      throw new RangeError(`pid must be a positive integer (got ${pid})`);
    for (const dir of allDirs(this.dirs)) writeControl(dir, "cgroup.procs", String(pid));
  }

  /** Pids in the group, from every hierarchy (normally the same set). */
  procs(): number[] {
    const pids = new Set<number>();
    for (const dir of allDirs(this.dirs)) {
      if (!existsSync(dir)) continue;
      for (const pid of parsePids(readFileSync(join(dir, "cgroup.procs"), "utf8"))) pids.add(pid);
    }
    return [...pids].sort((a, b) => a - b);
  }

  isEmpty(): boolean {
    if (this.dirs.unified !== undefined && existsSync(this.dirs.unified))
      return !isPopulatedV2(this.dirs.unified);
    return this.procs().length === 0;
  }

  spawnTarget(): SpawnCgroupTarget {
    const procs = new Set<string>();
    if (this.dirs.unified !== undefined) procs.add(join(this.dirs.unified, "cgroup.procs"));
    for (const dir of Object.values(this.dirs.v1)) procs.add(join(dir, "cgroup.procs"));
    return { cgroupProcs: [...procs] };
  }

  /** Freezes every process (v2 `cgroup.freeze`, else the v1 freezer) and waits until frozen. */
  async freeze(timeoutMs = DEFAULT_CGROUP_TIMEOUT_MS): Promise<void> {
    await this.setFrozen(true, timeoutMs);
  }

  async thaw(timeoutMs = DEFAULT_CGROUP_TIMEOUT_MS): Promise<void> {
    await this.setFrozen(false, timeoutMs);
  }

  private async setFrozen(frozen: boolean, timeoutMs: number): Promise<void> {
    const unified = this.dirs.unified;
    const freezer = this.dirs.v1.freezer;
    let dir: string;
    let isFrozen: () => boolean;
    if (unified !== undefined && hasFreezeV2(unified)) {
      setFrozenV2(unified, frozen);
      dir = unified;
      isFrozen = () => isFrozenV2(unified);
    } else if (freezer !== undefined) {
      setFrozenV1(freezer, frozen);
      dir = freezer;
      isFrozen = () => isFrozenV1(freezer);
    } else {
      throw new CgroupUnsupportedError(
        "freeze",
        "neither cgroup.freeze (v2) nor a v1 freezer is available",
      );
    }
    await waitFor(() => isFrozen() === frozen, timeoutMs, dir, frozen ? "frozen" : "thawed");
  }

  /**
   * SIGKILLs every process of the group: v2 `cgroup.kill` (Linux 5.14) where present,
   * otherwise freeze (so nothing forks meanwhile), SIGKILL each pid, thaw. Returns once
   * the signals are sent; `remove()` waits for the group to empty.
   */
  async kill(): Promise<void> {
    if (this.dirs.unified !== undefined && killV2(this.dirs.unified)) return;
    const canFreeze =
      (this.dirs.unified !== undefined && hasFreezeV2(this.dirs.unified)) ||
      this.dirs.v1.freezer !== undefined;
    if (canFreeze) await this.freeze();
    for (const pid of this.procs()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch (err) {
        if (errnoCode(err) !== "ESRCH") throw err;
      }
    }
    if (canFreeze) await this.thaw();
  }

  /**
   * Kills what still runs, waits until the group is empty and removes its directories,
   * all within `timeoutMs`. A directory already gone is not an error.
   */
  async remove(timeoutMs = DEFAULT_CGROUP_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const freezer = this.dirs.v1.freezer;
    // A task stopped by the v1 freezer does not act on SIGKILL until thawed.
    if (
      freezer !== undefined &&
      existsSync(freezer) &&
      readControl(freezer, "freezer.state") !== "THAWED"
    ) {
      setFrozenV1(freezer, false);
    }
    let lastKill = 0;
    while (this.existsAnywhere() && !this.isEmpty()) {
      if (Date.now() > deadline) throw new CgroupTimeoutError(this.path, "empty", timeoutMs);
      if (Date.now() - lastKill >= 100) {
        await this.kill();
        lastKill = Date.now();
      }
      await sleep(POLL_MS);
    }
    for (const dir of allDirs(this.dirs)) {
      for (;;) {
        try {
          rmdirSync(dir);
          break;
        } catch (err) {
          if (errnoCode(err) === "ENOENT") break;
          if (errnoCode(err) !== "EBUSY" || Date.now() > deadline) throw err;
          await sleep(POLL_MS);
        }
      }
    }
  }

  stats(): CgroupStats {
    const fromV1 = statsV1(this.dirs.v1);
    const fromV2: CgroupStats = this.dirs.unified !== undefined ? statsV2(this.dirs.unified) : {};
    const stats: CgroupStats = {};
    for (const key of [
      "cpuUsageUs",
      "memoryCurrent",
      "memoryPeak",
      "pidsCurrent",
      "oomKills",
    ] as const) {
      const value = fromV1[key] ?? fromV2[key];
      if (value !== undefined) stats[key] = value;
    }
    return stats;
  }

  private existsAnywhere(): boolean {
    return allDirs(this.dirs).some((dir) => existsSync(dir));
  }
}

async function waitFor(
  done: () => boolean,
  timeoutMs: number,
  path: string,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new CgroupTimeoutError(path, what, timeoutMs);
    await sleep(POLL_MS);
  }
}
