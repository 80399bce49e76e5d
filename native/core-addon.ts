import { loadAddon } from "./load-addon.js";

/** The addon's process and scheduling primitives (native/src), as the facade sees them. */

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

export interface CoreAddon {
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

let addon: CoreAddon | undefined;

/** Loaded on first use, like the rest of the facade. */
export function coreAddon(): CoreAddon {
  addon ??= loadAddon<CoreAddon>();
  return addon;
}
