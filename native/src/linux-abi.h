#pragma once
// Kernel interfaces glibc 2.36 (Debian 12, also the aarch64 sysroot) has no wrappers
// for: sched_setattr/getattr, clone3, pidfd_open, pidfd_send_signal, openat2. The structs are
// declared here under our own names so a newer glibc that adds its own cannot clash.
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>

namespace outpost::linux_abi {

// include/uapi/linux/sched/types.h (SCHED_ATTR_SIZE_VER1: 56 bytes).
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

// include/uapi/linux/sched.h (CLONE_ARGS_SIZE_VER2: 88 bytes, has `cgroup`).
struct CloneArgs {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};

// include/uapi/linux/openat2.h (OPEN_HOW_SIZE_VER0: 24 bytes).
struct OpenHow {
  uint64_t flags;
  uint64_t mode;
  uint64_t resolve;
};

constexpr uint64_t kResolveNoXdev = 0x01;
constexpr uint64_t kResolveNoMagiclinks = 0x02;
constexpr uint64_t kResolveNoSymlinks = 0x04;
constexpr uint64_t kResolveBeneath = 0x08;

constexpr int kSchedDeadline = 6;
constexpr uint64_t kSchedFlagResetOnFork = 0x01;
constexpr uint64_t kClonePidfd = 0x00001000ULL;
constexpr int kPidfdIdType = 3;  // P_PIDFD, Linux 5.4

inline int SchedSetattr(pid_t pid, SchedAttr* attr) {
  return static_cast<int>(syscall(SYS_sched_setattr, pid, attr, 0U));
}

inline int SchedGetattr(pid_t pid, SchedAttr* attr) {
  return static_cast<int>(syscall(SYS_sched_getattr, pid, attr, sizeof(SchedAttr), 0U));
}

inline long Clone3(CloneArgs* args) { return syscall(SYS_clone3, args, sizeof(CloneArgs)); }

inline int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0U)); }

inline int PidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0U));
}

inline int Openat2(int dirfd, const char* path, OpenHow* how) {
  return static_cast<int>(syscall(SYS_openat2, dirfd, path, how, sizeof(OpenHow)));
}

}  // namespace outpost::linux_abi
