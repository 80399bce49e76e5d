import { closeSync, constants as fs, openSync, statfsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../../common/index.js";
import { projectQuotaState } from "../../native/index.js";
import { DiskQuotaExceededError } from "../errors.js";
import { DEFAULT_WALK_PACE, measureDiskUsage, type WalkPace } from "./disk-usage.js";
import type { PartitionLayout } from "./partition-layout.js";
import { applyProjectQuota, projectIdOf } from "./project-quota.js";

/**
 * How a partition's disk limit holds: `quota`, a project quota the kernel enforces
 * (writes past it fail with EDQUOT); `measured`, the agent measures its files and stops
 * its instance while they are over; `none`, no limit.
 */
export type DiskMode = "quota" | "measured" | "none";

export interface DiskLimit {
  bytes: number;
  /** 0: none (a filesystem that reports no inode count). */
  inodes: number;
}

export interface DiskQuotaOptions {
  /** The data directory's `partitions/` and `logs/`: each partition's two directories. */
  roots: { partitions: string; logs: string };
  /** The agent's naming prefix: project ids are derived from it (projectIdOf). */
  prefix: string;
  /** Bytes per partition; null: no limit. */
  bytes: number | null;
  /** Measured mode: pause between two rounds over every partition (default 30 s). */
  intervalMs?: number;
  /** Measured mode: how fast a walk may go (default 1000 entries, then 50 ms). */
  pace?: WalkPace;
  logger: Logger;
  /** A partition went over its limit or back under (measured mode). */
  onChange: () => void;
}

/** The inode share that goes with `bytes` of a filesystem: the same fraction of its inodes. */
export function inodesFor(bytes: number, fsBytes: number, fsInodes: number): number {
  if (fsInodes <= 0 || fsBytes <= 0) return 0;
  return Math.max(1024, Math.floor((fsInodes * Math.min(bytes, fsBytes)) / fsBytes));
}

function projectQuotaOff(dir: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(dir, fs.O_RDONLY | fs.O_DIRECTORY);
  } catch (err) {
    return (err as Error).message;
  }
  try {
    const state = projectQuotaState(fd, dir);
    if (state.enforced) return undefined;
    return state.accounting
      ? "project quota is counted, not enforced, on this filesystem"
      : "project quota is off on this filesystem";
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return `no project quota on this filesystem (${e.code ?? e.message})`;
  } finally {
    closeSync(fd);
  }
}

/**
 * Each partition's disk limit on the data filesystem. Where that filesystem enforces
 * project quotas, each partition's directory and log directory get a project id of
 * their own with the limit (space, and the same share of inodes), and the kernel holds
 * it. Elsewhere the agent measures both directories (lstat, no link followed, paced)
 * every `intervalMs` and reports a partition over its limit (`exceeded`), which the
 * converger stops until it is back under.
 */
export class DiskQuotas {
  readonly mode: DiskMode;
  readonly limit: DiskLimit | undefined;
  private readonly partitions = new Map<number, { mode: DiskMode; dirs: string[] }>();
  private readonly over = new Map<number, DiskQuotaExceededError>();
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(private readonly options: DiskQuotaOptions) {
    const { roots, bytes, logger } = options;
    if (bytes === null) {
      this.mode = "none";
      logger.info({ mode: this.mode }, "disk.mode");
      return;
    }
    const st = statfsSync(roots.partitions);
    this.limit = { bytes, inodes: inodesFor(bytes, st.blocks * st.bsize, st.files) };
    const off = projectQuotaOff(roots.partitions) ?? projectQuotaOff(roots.logs);
    this.mode = off === undefined ? "quota" : "measured";
    logger.info(
      { mode: this.mode, ...this.limit, ...(off !== undefined ? { reason: off } : {}) },
      "disk.mode",
    );
  }

  /**
   * Puts a partition under its limit (idempotent: cheap once done). A project id that is
   * taken or refused leaves that partition measured, and says why (`disk.quota_refused`).
   */
  prepare(partition: PartitionLayout): DiskMode {
    const dirs = [partition.path, partition.logPath];
    let mode = this.mode;
    if (mode === "quota" && this.limit) {
      const id = projectIdOf(this.options.prefix, partition.number);
      try {
        applyProjectQuota(dirs, id, this.limit);
      } catch (err) {
        mode = "measured";
        this.options.logger.warn(
          { partition: partition.number, projectId: id, err },
          "disk.quota_refused",
        );
      }
    }
    this.partitions.set(partition.number, { mode, dirs });
    return mode;
  }

  modeOf(partition: number): DiskMode {
    return this.partitions.get(partition)?.mode ?? this.mode;
  }

  /** Why the partition's instance must not run now: its files are over the limit (measured mode). */
  exceeded(partition: number): DiskQuotaExceededError | undefined {
    return this.over.get(partition);
  }

  /** Starts measuring (measured mode; nothing to do otherwise). */
  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  /** One round over every measured partition (what `start` repeats every `intervalMs`). */
  async measureAll(): Promise<void> {
    const { limit } = this;
    if (!limit) return;
    for (const [number, p] of this.partitions) {
      if (p.mode !== "measured" || this.abort.signal.aborted) continue;
      const usage = await measureDiskUsage(p.dirs, {
        pace: this.options.pace ?? DEFAULT_WALK_PACE,
        stopAbove: { bytes: limit.bytes, inodes: limit.inodes > 0 ? limit.inodes : Infinity },
        signal: this.abort.signal,
      });
      if (this.abort.signal.aborted) return;
      const isOver = usage.bytes > limit.bytes || (limit.inodes > 0 && usage.inodes > limit.inodes);
      const was = this.over.has(number);
      if (isOver) {
        const error = new DiskQuotaExceededError(
          number,
          { bytes: usage.bytes, inodes: usage.inodes },
          limit,
        );
        this.over.set(number, error);
        if (!was) {
          this.options.logger.warn({ partition: number, used: usage, limit }, "disk.over_limit");
          this.options.onChange();
        }
      } else if (was && usage.complete) {
        this.over.delete(number);
        this.options.logger.info({ partition: number, used: usage, limit }, "disk.back_under");
        this.options.onChange();
      }
    }
  }

  private async run(): Promise<void> {
    // In quota mode a round only finds partitions whose project id was refused.
    if (this.mode === "none") return;
    const { signal } = this.abort;
    while (!signal.aborted) {
      try {
        await this.measureAll();
      } catch (err) {
        this.options.logger.warn({ err }, "disk.measure_failed");
      }
      await sleep(this.options.intervalMs ?? 30_000, undefined, { signal }).catch(() => undefined);
    }
  }
}
