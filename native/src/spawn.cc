#include "spawn.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cpu-set.h"
#include "errno-error.h"
#include "js-args.h"
#include "linux-abi.h"
#include "unique-fd.h"

namespace outpost {

namespace {

enum class Stage : int {
  kSetsid,
  kCgroup,
  kAffinity,
  kSched,
  kNice,
  kRlimit,
  kSetgroups,
  kSetgid,
  kSetuid,
  kPdeathsig,
  kChdir,
  kDup2,
  kNoNewPrivs,
  kSeccomp,
  kExecve,
};

const char* StageSyscall(Stage stage) {
  switch (stage) {
    case Stage::kSetsid: return "setsid";
    case Stage::kCgroup: return "write";
    case Stage::kAffinity: return "sched_setaffinity";
    case Stage::kSched: return "sched_setattr";
    case Stage::kNice: return "setpriority";
    case Stage::kRlimit: return "setrlimit";
    case Stage::kSetgroups: return "setgroups";
    case Stage::kSetgid: return "setresgid";
    case Stage::kSetuid: return "setresuid";
    case Stage::kPdeathsig: return "prctl";
    case Stage::kChdir: return "chdir";
    case Stage::kDup2: return "dup2";
    case Stage::kNoNewPrivs: return "prctl";
    case Stage::kSeccomp: return "seccomp";
    case Stage::kExecve: return "execve";
  }
  return "spawn";
}

struct ChildFailure {
  int err;
  Stage stage;
  int index;
};

struct Rlimit {
  int resource;
  struct rlimit limit;
};

enum class StdioKind { kInherit, kNull, kPipe, kFile };

struct StdioSpec {
  StdioKind kind = StdioKind::kInherit;
  std::string path;
  bool append = false;
};

// Everything the child needs, in memory that exists before fork.
struct Plan {
  std::string file;
  std::vector<std::string> argv_store, env_store;
  std::vector<char*> argv, envp;
  bool has_cwd = false;
  std::string cwd;
  bool has_uid = false, has_gid = false, has_groups = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  int umask = -1;
  bool setsid = false;
  std::vector<std::string> cgroup_procs;
  bool has_sched = false;
  linux_abi::SchedAttr sched{};
  bool has_nice = false;
  int nice = 0;
  std::unique_ptr<CpuSet> cpus;
  std::vector<Rlimit> rlimits;
  int pdeathsig = 0;
  StdioSpec stdio[3];
  bool no_new_privs = false;
  // A classic-BPF program for seccomp(SECCOMP_SET_MODE_FILTER); empty: none.
  std::vector<sock_filter> seccomp;
};

std::vector<char*> CStrings(std::vector<std::string>& store) {
  std::vector<char*> out;
  out.reserve(store.size() + 1);
  for (std::string& s : store) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

rlim_t LimitField(const Napi::Object& obj, const char* name) {
  Napi::Value v = obj.Get(name);
  if (!v.IsNumber()) throw Napi::TypeError::New(obj.Env(), std::string("rlimit ") + name + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d == INFINITY) return RLIM_INFINITY;
  if (!(d >= 0)) throw Napi::RangeError::New(obj.Env(), std::string("rlimit ") + name + " must be >= 0");
  return static_cast<rlim_t>(d);
}

StdioSpec ParseStdio(Napi::Env env, const Napi::Value& v) {
  StdioSpec spec;
  if (v.IsString()) {
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s == "inherit") spec.kind = StdioKind::kInherit;
    else if (s == "ignore") spec.kind = StdioKind::kNull;
    else if (s == "pipe") spec.kind = StdioKind::kPipe;
    else throw Napi::TypeError::New(env, "stdio must be inherit, ignore, pipe or { path }");
  } else if (v.IsObject()) {
    Napi::Object o = v.As<Napi::Object>();
    spec.kind = StdioKind::kFile;
    spec.path = StringField(o, "path");
    spec.append = o.Get("append").ToBoolean().Value();
  } else if (!v.IsUndefined()) {
    throw Napi::TypeError::New(env, "stdio must be inherit, ignore, pipe or { path }");
  }
  return spec;
}

Plan ParsePlan(Napi::Env env, const Napi::Object& in) {
  Plan p;
  p.file = StringField(in, "file");
  p.argv_store = StringArray(env, in.Get("argv"), "argv");
  p.env_store = StringArray(env, in.Get("env"), "env");
  p.argv = CStrings(p.argv_store);
  p.envp = CStrings(p.env_store);
  if (in.Has("cwd") && !in.Get("cwd").IsUndefined()) {
    p.has_cwd = true;
    p.cwd = StringField(in, "cwd");
  }
  if (in.Has("uid") && !in.Get("uid").IsUndefined()) {
    p.has_uid = true;
    p.uid = static_cast<uid_t>(Int64Field(in, "uid", 0));
  }
  if (in.Has("gid") && !in.Get("gid").IsUndefined()) {
    p.has_gid = true;
    p.gid = static_cast<gid_t>(Int64Field(in, "gid", 0));
  }
  if (in.Has("groups") && !in.Get("groups").IsUndefined()) {
    p.has_groups = true;
    for (int32_t g : IntArray(env, in.Get("groups"), "groups")) p.groups.push_back(static_cast<gid_t>(g));
  }
  p.umask = static_cast<int>(Int64Field(in, "umask", -1));
  p.setsid = in.Get("setsid").ToBoolean().Value();
  if (in.Has("cgroupProcs") && !in.Get("cgroupProcs").IsUndefined())
    p.cgroup_procs = StringArray(env, in.Get("cgroupProcs"), "cgroupProcs");
  Napi::Value sched = in.Get("sched");
  if (sched.IsObject()) {
    Napi::Object s = sched.As<Napi::Object>();
    p.has_sched = true;
    p.sched.size = sizeof p.sched;
    p.sched.sched_policy = static_cast<uint32_t>(Int64Field(s, "policy", SCHED_OTHER));
    p.sched.sched_flags = static_cast<uint64_t>(Int64Field(s, "flags", 0));
    p.sched.sched_nice = static_cast<int32_t>(Int64Field(s, "nice", 0));
    p.sched.sched_priority = static_cast<uint32_t>(Int64Field(s, "priority", 0));
    p.sched.sched_runtime = static_cast<uint64_t>(Int64Field(s, "runtime", 0));
    p.sched.sched_deadline = static_cast<uint64_t>(Int64Field(s, "deadline", 0));
    p.sched.sched_period = static_cast<uint64_t>(Int64Field(s, "period", 0));
  }
  if (in.Has("nice") && !in.Get("nice").IsUndefined()) {
    p.has_nice = true;
    p.nice = static_cast<int>(Int64Field(in, "nice", 0));
  }
  if (in.Has("cpus") && !in.Get("cpus").IsUndefined())
    p.cpus = std::make_unique<CpuSet>(IntArray(env, in.Get("cpus"), "cpus"));
  Napi::Value rlimits = in.Get("rlimits");
  if (rlimits.IsArray()) {
    Napi::Array a = rlimits.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value item = a.Get(i);
      if (!item.IsObject()) throw Napi::TypeError::New(env, "rlimits must hold objects");
      Napi::Object o = item.As<Napi::Object>();
      Rlimit r;
      r.resource = static_cast<int>(Int64Field(o, "resource", -1));
      r.limit.rlim_cur = LimitField(o, "soft");
      r.limit.rlim_max = LimitField(o, "hard");
      p.rlimits.push_back(r);
    }
  }
  p.pdeathsig = static_cast<int>(Int64Field(in, "pdeathsig", 0));
  p.no_new_privs = in.Get("noNewPrivs").ToBoolean().Value();
  Napi::Value seccomp = in.Get("seccomp");
  if (seccomp.IsTypedArray() && seccomp.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    Napi::Uint8Array bytes = seccomp.As<Napi::Uint8Array>();
    size_t n = bytes.ByteLength() / sizeof(sock_filter);
    if (n == 0 || n > BPF_MAXINSNS || bytes.ByteLength() % sizeof(sock_filter) != 0)
      throw Napi::RangeError::New(env, "seccomp must hold 1..4096 sock_filter instructions (8 bytes each)");
    p.seccomp.resize(n);
    std::memcpy(p.seccomp.data(), bytes.Data(), bytes.ByteLength());
  } else if (!seccomp.IsUndefined()) {
    throw Napi::TypeError::New(env, "seccomp must be a Uint8Array");
  }
  Napi::Value stdio = in.Get("stdio");
  if (stdio.IsArray()) {
    Napi::Array a = stdio.As<Napi::Array>();
    for (uint32_t i = 0; i < 3 && i < a.Length(); i++) p.stdio[i] = ParseStdio(env, a.Get(i));
  }
  return p;
}

// File descriptors opened by the parent before fork (all CLOEXEC).
struct Fds {
  std::vector<UniqueFd> cgroup_procs;
  UniqueFd child_stdio[3];
  UniqueFd parent_stdio[3];
  UniqueFd error_read, error_write;
};

// Async-signal-safe only: no allocation, no locks, no glibc calls that consult its
// thread list (setuid & co. go through raw syscalls, since clone3 skips glibc's fork
// bookkeeping and its setxid broadcast would wait for threads the child lacks).
[[noreturn]] void RunChild(const Plan& p, const Fds& fds, pid_t parent) {
  auto fail = [&](Stage stage, int index) {
    ChildFailure failure{errno, stage, index};
    ssize_t ignored = write(fds.error_write.get(), &failure, sizeof failure);
    (void)ignored;
    _exit(127);
  };

  // Node ignores SIGPIPE and installs handlers; a fresh program expects defaults.
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  if (p.setsid && setsid() < 0) fail(Stage::kSetsid, 0);
  for (size_t i = 0; i < fds.cgroup_procs.size(); i++)
    if (write(fds.cgroup_procs[i].get(), "0", 1) != 1) fail(Stage::kCgroup, static_cast<int>(i));
  if (p.cpus && sched_setaffinity(0, p.cpus->size(), p.cpus->set()) != 0) fail(Stage::kAffinity, 0);
  if (p.has_sched) {
    linux_abi::SchedAttr attr = p.sched;
    if (linux_abi::SchedSetattr(0, &attr) != 0) fail(Stage::kSched, 0);
  } else if (p.has_nice && setpriority(PRIO_PROCESS, 0, p.nice) != 0) {
    fail(Stage::kNice, 0);
  }
  for (size_t i = 0; i < p.rlimits.size(); i++)
    if (setrlimit(static_cast<__rlimit_resource>(p.rlimits[i].resource), &p.rlimits[i].limit) != 0)
      fail(Stage::kRlimit, static_cast<int>(i));
  if (p.has_groups && syscall(SYS_setgroups, p.groups.size(), p.groups.data()) != 0)
    fail(Stage::kSetgroups, 0);
  if (p.has_gid && syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0) fail(Stage::kSetgid, 0);
  if (p.has_uid && syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0) fail(Stage::kSetuid, 0);
  // After the uid switch: changing credentials clears the parent-death signal.
  if (p.pdeathsig > 0) {
    if (prctl(PR_SET_PDEATHSIG, p.pdeathsig) != 0) fail(Stage::kPdeathsig, 0);
    if (getppid() != parent) {
      syscall(SYS_kill, getpid(), p.pdeathsig);
      _exit(128 + p.pdeathsig);
    }
  }
  if (p.umask >= 0) umask(static_cast<mode_t>(p.umask));
  if (p.has_cwd && chdir(p.cwd.c_str()) != 0) fail(Stage::kChdir, 0);
  for (int target = 0; target < 3; target++) {
    int fd = fds.child_stdio[target].get();
    // Node marks its own 0-2 close-on-exec; an inherited stream must survive execve.
    if (fd < 0 || fd == target) {
      if (fcntl(target, F_SETFD, 0) != 0 && errno != EBADF) fail(Stage::kDup2, target);
    } else if (dup2(fd, target) < 0) {
      fail(Stage::kDup2, target);
    }
  }
  if (p.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(Stage::kNoNewPrivs, 0);
  // Last before execve, so none of the steps above runs under the filter; a failure
  // report (write, _exit) can only be refused by a filter that denies those itself.
  if (!p.seccomp.empty()) {
    sock_fprog prog{static_cast<unsigned short>(p.seccomp.size()), const_cast<sock_filter*>(p.seccomp.data())};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0U, &prog) != 0) fail(Stage::kSeccomp, 0);
  }
  execve(p.file.c_str(), p.argv.data(), p.envp.data());
  fail(Stage::kExecve, 0);
  _exit(127);
}

void OpenStdio(Napi::Env env, const StdioSpec& spec, int target, Fds& fds) {
  switch (spec.kind) {
    case StdioKind::kInherit:
      return;
    case StdioKind::kNull: {
      int fd = open("/dev/null", (target == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
      if (fd < 0) throw ErrnoError(env, errno, "open", "/dev/null");
      fds.child_stdio[target].reset(fd);
      return;
    }
    case StdioKind::kFile: {
      int flags = target == 0 ? O_RDONLY : O_WRONLY | O_CREAT | (spec.append ? O_APPEND : O_TRUNC);
      int fd = open(spec.path.c_str(), flags | O_CLOEXEC, 0644);
      if (fd < 0) throw ErrnoError(env, errno, "open", spec.path);
      fds.child_stdio[target].reset(fd);
      return;
    }
    case StdioKind::kPipe: {
      int ends[2];
      if (pipe2(ends, O_CLOEXEC) != 0) throw ErrnoError(env, errno, "pipe2");
      // ends[0] reads, ends[1] writes: the child reads stdin, writes stdout/stderr.
      fds.child_stdio[target].reset(target == 0 ? ends[0] : ends[1]);
      fds.parent_stdio[target].reset(target == 0 ? ends[1] : ends[0]);
      return;
    }
  }
}

std::string FailurePath(const Plan& p, const ChildFailure& f) {
  switch (f.stage) {
    case Stage::kCgroup:
      return f.index >= 0 && static_cast<size_t>(f.index) < p.cgroup_procs.size()
                 ? p.cgroup_procs[static_cast<size_t>(f.index)]
                 : "";
    case Stage::kChdir: return p.cwd;
    case Stage::kExecve: return p.file;
    default: return "";
  }
}

// Blocks every signal across fork so no handler of Node's runs in the child before
// the child has reset them; restores the parent's mask on scope exit.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_;
};

}  // namespace

Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "plan must be an object");
  Plan plan = ParsePlan(env, info[0].As<Napi::Object>());

  Fds fds;
  for (const std::string& path : plan.cgroup_procs) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) throw ErrnoError(env, errno, "open", path);
    fds.cgroup_procs.emplace_back(fd);
  }
  for (int target = 0; target < 3; target++) OpenStdio(env, plan.stdio[target], target, fds);
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) throw ErrnoError(env, errno, "pipe2");
  fds.error_read.reset(ends[0]);
  fds.error_write.reset(ends[1]);

  pid_t parent = getpid();
  pid_t pid;
  int pidfd = -1;
  int fork_errno = 0;
  {
    SignalsBlocked blocked;
    linux_abi::CloneArgs args;
    std::memset(&args, 0, sizeof args);
    args.flags = linux_abi::kClonePidfd;
    args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
    args.exit_signal = SIGCHLD;
    // No CLONE_INTO_CGROUP: Linux 6.18 compares the spawner's cgroup kill_seq with the
    // target's, so a child cloned into a group that was ever cgroup.kill'ed is SIGKILLed
    // at birth. The child joins every hierarchy by writing cgroup.procs instead.
    pid = static_cast<pid_t>(linux_abi::Clone3(&args));
    if (pid < 0 && (errno == ENOSYS || errno == E2BIG)) {
      // Kernels before 5.3 (and valgrind) lack clone3: fork, then open the pidfd.
      pid = fork();
      pidfd = -1;
    }
    if (pid == 0) RunChild(plan, fds, parent);
    fork_errno = errno;
  }
  if (pid < 0) throw ErrnoError(env, fork_errno, "clone3");
  UniqueFd owned_pidfd(pidfd);
  fds.error_write.reset();
  for (UniqueFd& fd : fds.child_stdio) fd.reset();

  ChildFailure failure;
  size_t got = 0;
  while (got < sizeof failure) {
    ssize_t n = read(fds.error_read.get(), reinterpret_cast<char*>(&failure) + got, sizeof failure - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (got == sizeof failure) {
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    throw ErrnoError(env, failure.err, StageSyscall(failure.stage), FailurePath(plan, failure));
  }
  if (owned_pidfd.get() < 0) {
    // The child is unreaped, so its pid cannot have been reused yet.
    owned_pidfd.reset(linux_abi::PidfdOpen(pid));
    if (owned_pidfd.get() < 0) {
      int err = errno;
      kill(pid, SIGKILL);
      while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      throw ErrnoError(env, err, "pidfd_open");
    }
  }

  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", pid);
  out.Set("pidfd", owned_pidfd.release());
  const char* names[3] = {"stdin", "stdout", "stderr"};
  for (int i = 0; i < 3; i++)
    if (fds.parent_stdio[i].get() >= 0) out.Set(names[i], fds.parent_stdio[i].release());
  return out;
}

}  // namespace outpost
