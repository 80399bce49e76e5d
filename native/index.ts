export { packageRoot, type Uname } from "./addon.js";
export { getAffinity, setAffinity } from "./affinity.js";
export { attachSockAddrProgram, type SockAddrHook, sockAddrPrograms } from "./bpf.js";
export {
  CgroupExistsError,
  CgroupParentMissingError,
  CgroupPartitionInvalidError,
  CgroupTimeoutError,
  CgroupUnsupportedError,
} from "./cgroup/errors.js";
export {
  Cgroup,
  type CgroupStats,
  DEFAULT_CGROUP_TIMEOUT_MS,
  type SpawnCgroupTarget,
} from "./cgroup/group.js";
export {
  type CgroupDirs,
  type CgroupLayout,
  cgroupLayoutOf,
  readCgroupLayout,
  V1_CONTROLLERS,
  type V1Controller,
} from "./cgroup/layout.js";
export type { CgroupLimits } from "./cgroup/limits.js";
export {
  CGROUP_ROOT,
  type CgroupMode,
  CgroupNotMountedError,
  cgroupModeOf,
  detectCgroupMode,
} from "./cgroup/mode.js";
export { type CgroupMount, parseCgroupMounts, readCgroupMounts } from "./cgroup/mounts.js";
export {
  type CgroupMembership,
  parseProcCgroup,
  readCgroupMembership,
} from "./cgroup/own-cgroup.js";
export { CPU_PERIOD_US, parseSize } from "./cgroup/values.js";
export { adopt, type ExitStatus, WatchedProcess } from "./child-process.js";
export { CpuListSyntaxError, formatCpuList, parseCpuList } from "./cpu-list.js";
export {
  buildCpuTopology,
  type CpuCore,
  type CpuTopology,
  type RawCpu,
  type RawCpuTopology,
  readCpuTopology,
  readOnlineCpus,
  readRawCpuTopology,
} from "./cpu-topology.js";
export {
  isNativeSystemError,
  NativeAddonMissingError,
  NativeError,
  type NativeSystemError,
} from "./errors.js";
export {
  atFdcwd,
  mkdirat,
  oPath,
  openat2,
  type ResolveFlag,
  renameat,
  unlinkat,
} from "./fd-at.js";
export { type FallocateFlag, fallocate } from "./file-space.js";
export {
  type KernelParameter,
  parseKernelCmdline,
  RT_KERNEL_PARAMETERS,
  readKernelRtParameters,
  rtParametersOf,
} from "./kernel-cmdline.js";
export {
  KERNEL_RT_PATHS,
  type KernelRtPaths,
  kernelConfigSaysRt,
  type PreemptRt,
  type PreemptRtSignals,
  preemptRtOf,
  readKernelConfig,
  readPreemptRt,
  realtimeFlagSaysRt,
  unameVersionSaysRt,
} from "./kernel-rt.js";
export {
  CpuNotOnlineError,
  checkCpusOnline,
  checkLatencyProbeOptions,
  HISTOGRAM_MAX_US_LIMIT,
  LatencyProbeAbortedError,
  type LatencyProbeCpu,
  type LatencyProbeOptions,
  type LatencyProbeResult,
  probeLatency,
} from "./latency-probe.js";
export { type MlockAllOptions, mlockAll, munlockAll } from "./mlock.js";
export {
  type FsProjectAttributes,
  getProjectAttributes,
  getProjectQuota,
  type ProjectLimits,
  type ProjectQuota,
  type ProjectQuotaState,
  projectQuotaState,
  setProjectAttributes,
  setProjectQuota,
} from "./quota.js";
export { getRlimit, RLIMIT_NAMES, type Rlimit, type RlimitName, setRlimit } from "./rlimit.js";
export {
  getScheduler,
  parseSchedSpec,
  priorityRange,
  SCHED_POLICIES,
  type SchedPolicy,
  type SchedSettings,
  setScheduler,
} from "./sched.js";
export {
  AUDIT_ARCH,
  hostSeccompArch,
  isKnownSyscall,
  SECCOMP_ARCHES,
  type SeccompArch,
  SYSCALL_NAMES,
  syscallTable,
} from "./seccomp/arch.js";
export {
  buildSeccompFilter,
  SECCOMP_MAX_INSTRUCTIONS,
  type SeccompPolicy,
  UnknownSyscallError,
} from "./seccomp/filter.js";
export { resolveCommand, type SpawnOptions, type StdioSpec, spawn } from "./spawn.js";
export { readSystemInfo, type SystemInfo } from "./system-info.js";
export { uname } from "./uname.js";
export { type ResolvedUser, resolveUser, UnknownUserError } from "./users.js";
