import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { NativeAddonMissingError } from "./errors.js";

/**
 * The compiled addon (`build/Release/outpost.node`, or `OUTPOST_NATIVE_ADDON`): its whole
 * interface declared once here and loaded on first use, so commands that need no
 * syscalls still run without a build.
 */

export interface Uname {
  sysname: string;
  nodename: string;
  release: string;
  version: string;
  machine: string;
}

/** One latency probe thread's figures as the addon returns them, latencies in whole µs. */
export interface NativeLatencyCpu {
  cpu: number;
  /** Kernel thread id of the probe thread (for /proc/self/task/<tid>/…). */
  tid: number;
  /** Policy number (SCHED_*) read back by the thread itself once set. */
  policy: number;
  priority: number;
  /** Affinity read back by the thread itself once pinned. */
  affinity: number[];
  samples: number;
  minUs: number;
  maxUs: number;
  sumUs: number;
  /** Samples >= the histogram's range, not in `histogram`. */
  overflow: number;
  /** `histogram[us]` = samples with latency in [us, us+1) µs. */
  histogram: Float64Array;
}

export interface NativeSchedAttr {
  policy: number;
  flags?: number;
  nice?: number;
  priority?: number;
  /** Nanoseconds (SCHED_DEADLINE). */
  runtime?: number;
  deadline?: number;
  period?: number;
}

export type NativeStdio = "inherit" | "ignore" | "pipe" | { path: string; append?: boolean };

export interface NativeSpawnPlan {
  file: string;
  argv: string[];
  env: string[];
  cwd?: string;
  uid?: number;
  gid?: number;
  groups?: number[];
  umask?: number;
  setsid?: boolean;
  cgroup?: string;
  cgroupProcs?: string[];
  sched?: NativeSchedAttr;
  nice?: number;
  cpus?: number[];
  rlimits?: { resource: number; soft: number; hard: number }[];
  pdeathsig?: number;
  stdio: [NativeStdio, NativeStdio, NativeStdio];
  /** prctl(PR_SET_NO_NEW_PRIVS) in the child, after the uid switch. */
  noNewPrivs?: boolean;
  /** A classic-BPF sock_filter program, installed last before execve. */
  seccomp?: Uint8Array;
}

export interface NativeSpawned {
  pid: number;
  pidfd: number;
  stdin?: number;
  stdout?: number;
  stderr?: number;
}

export interface NativeExitWatch {
  kill(signal: number): void;
  ref(): void;
  unref(): void;
  close(): void;
}

/** `struct fsxattr` (FS_IOC_FSGETXATTR). */
export interface NativeFsXattr {
  xflags: number;
  extsize: number;
  nextents: number;
  projid: number;
  cowextsize: number;
}

/** `struct if_dqblk` (Q_GETQUOTA): limits in 1 KiB blocks, `curspace` in bytes. */
export interface NativeDqblk {
  bhardlimit: number;
  bsoftlimit: number;
  curspace: number;
  ihardlimit: number;
  isoftlimit: number;
  curinodes: number;
  btime: number;
  itime: number;
  valid: number;
}

/**
 * Everything `native/src/addon.cc` exports, typed once: the rest of native/ reaches the
 * C++ code only through `nativeAddon()`.
 */
export interface NativeAddon {
  uname(): Uname;
  latencyProbeStart(options: {
    cpus: number[];
    priority: number;
    intervalUs: number;
    loops: number;
    histogramBuckets: number;
    lockMemory: boolean;
  }): { promise: Promise<{ cancelled: boolean; cpus: NativeLatencyCpu[] }>; stop(): void };
  schedGetAttr(pid: number): Required<NativeSchedAttr>;
  schedSetAttr(pid: number, attr: NativeSchedAttr): void;
  schedPriorityRange(policy: number): { min: number; max: number };
  schedConstants: Record<
    "OTHER" | "FIFO" | "RR" | "BATCH" | "IDLE" | "DEADLINE" | "RESET_ON_FORK",
    number
  >;
  getAffinity(pid: number): number[];
  setAffinity(pid: number, cpus: number[]): void;
  getRlimit(pid: number, resource: number): { soft: number; hard: number };
  setRlimit(pid: number, resource: number, soft: number, hard: number): void;
  rlimitConstants: Record<string, number>;
  mlockall(flags: number): void;
  munlockall(): void;
  mlockConstants: Record<"CURRENT" | "FUTURE" | "ONFAULT", number>;
  spawn(plan: NativeSpawnPlan): NativeSpawned;
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
  mkdirat(dirfd: number, name: string, mode: number): void;
  renameat(fromDirfd: number, from: string, toDirfd: number, to: string): void;
  unlinkat(dirfd: number, name: string, flags: number): void;
  fdAtConstants: Record<
    | "AT_FDCWD"
    | "AT_REMOVEDIR"
    | "O_PATH"
    | "RESOLVE_NO_XDEV"
    | "RESOLVE_NO_MAGICLINKS"
    | "RESOLVE_NO_SYMLINKS"
    | "RESOLVE_BENEATH",
    number
  >;
  bpfProgLoad(type: number, expectedAttachType: number, insns: Buffer, license: string): number;
  bpfCgroupAttach(cgroupDir: string, progFd: number, attachType: number, flags: number): void;
  bpfCgroupQuery(
    cgroupDir: string,
    attachType: number,
    effective: boolean,
  ): { flags: number; ids: number[] };
  bpfConstants: Record<
    | "PROG_TYPE_CGROUP_SOCK_ADDR"
    | "CGROUP_INET4_BIND"
    | "CGROUP_INET6_BIND"
    | "F_ALLOW_OVERRIDE"
    | "F_ALLOW_MULTI",
    number
  >;
  fallocate(fd: number, mode: number, offset: number, length: number, path?: string): Promise<void>;
  fileSpaceConstants: Record<
    | "FALLOC_FL_KEEP_SIZE"
    | "FALLOC_FL_PUNCH_HOLE"
    | "FALLOC_FL_COLLAPSE_RANGE"
    | "FALLOC_FL_ZERO_RANGE"
    | "FALLOC_FL_INSERT_RANGE",
    number
  >;
  fsGetXattr(fd: number, path: string): NativeFsXattr;
  fsSetXattr(fd: number, path: string, attr: Omit<NativeFsXattr, "nextents">): void;
  quotaGetState(fd: number, path: string): { flags: number };
  quotaGetProject(fd: number, path: string, id: number): NativeDqblk;
  quotaSetProject(
    fd: number,
    path: string,
    id: number,
    limits: Pick<NativeDqblk, "bhardlimit" | "bsoftlimit" | "ihardlimit" | "isoftlimit">,
  ): void;
  quotaConstants: Record<
    "FS_XFLAG_PROJINHERIT" | "FS_QUOTA_PDQ_ACCT" | "FS_QUOTA_PDQ_ENFD" | "QIF_DQBLKSIZE",
    number
  >;
  ExitWatch: new (
    pid: number,
    pidfd: number,
    reap: boolean,
    callback: (result: { code: number | null; signal: number | null }) => void,
  ) => NativeExitWatch;
}

/**
 * The package root is the first ancestor holding binding.gyp; searching for it keeps
 * the same code working from the sources (tsx, tests) and from dist/ (the installed CLI).
 */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (!existsSync(join(dir, "binding.gyp"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no binding.gyp above ${from}`);
    dir = parent;
  }
  return dir;
}

let addon: NativeAddon | undefined;

/** The addon, loaded on first use; `NativeAddonMissingError` when it cannot be. */
export function nativeAddon(): NativeAddon {
  if (addon) return addon;
  const path =
    process.env.OUTPOST_NATIVE_ADDON ?? join(packageRoot(), "build", "Release", "outpost.node");
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (cause) {
    throw new NativeAddonMissingError(path, cause);
  }
  return addon;
}
