#include "bpf.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "errno-error.h"
#include "js-args.h"
#include "unique-fd.h"

namespace outpost {

namespace {

long Bpf(int cmd, union bpf_attr* attr) {
  return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  std::string s = info[index].As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos)
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must not contain NUL");
  return s;
}

UniqueFd OpenCgroup(Napi::Env env, const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) throw ErrnoError(env, errno, "open", path);
  return fd;
}

}  // namespace

// bpfProgLoad(type, expectedAttachType, insns: Buffer, license) -> fd (close-on-exec).
// On a verifier refusal the error's message carries the verifier's log.
Napi::Value BpfProgLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t type = static_cast<uint32_t>(IntArg(info, 0, "type"));
  uint32_t attach = static_cast<uint32_t>(IntArg(info, 1, "expectedAttachType"));
  if (info.Length() < 3 || !info[2].IsBuffer())
    throw Napi::TypeError::New(env, "insns must be a Buffer");
  Napi::Buffer<uint8_t> insns = info[2].As<Napi::Buffer<uint8_t>>();
  if (insns.Length() == 0 || insns.Length() % sizeof(struct bpf_insn) != 0)
    throw Napi::RangeError::New(env, "insns must hold whole 8-byte instructions");
  std::string license = StringArg(info, 3, "license");
  std::vector<char> log(16384, 0);
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = type;
  attr.expected_attach_type = attach;
  attr.insns = reinterpret_cast<uintptr_t>(insns.Data());
  attr.insn_cnt = static_cast<uint32_t>(insns.Length() / sizeof(struct bpf_insn));
  attr.license = reinterpret_cast<uintptr_t>(license.c_str());
  attr.log_buf = reinterpret_cast<uintptr_t>(log.data());
  attr.log_size = static_cast<uint32_t>(log.size());
  attr.log_level = 1;
  long fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0 && errno == ENOSPC) {
    // The log did not fit; the load itself may be fine without one.
    attr.log_buf = 0;
    attr.log_size = 0;
    attr.log_level = 0;
    fd = Bpf(BPF_PROG_LOAD, &attr);
  }
  if (fd < 0) {
    int err = errno;
    Napi::Error e = ErrnoError(env, err, "bpf(BPF_PROG_LOAD)");
    log.back() = '\0';
    if (log[0] != '\0') e.Set("verifierLog", Napi::String::New(env, log.data()));
    throw e;
  }
  return Napi::Number::New(env, static_cast<double>(fd));
}

// bpfCgroupAttach(cgroupDir, progFd, attachType, flags): BPF_PROG_ATTACH on the
// directory of a cgroup2 group. With flags 0 a second attach replaces the first.
Napi::Value BpfCgroupAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "cgroupDir");
  int prog = IntArg(info, 1, "progFd");
  uint32_t type = static_cast<uint32_t>(IntArg(info, 2, "attachType"));
  uint32_t flags = static_cast<uint32_t>(IntArg(info, 3, "flags"));
  UniqueFd group = OpenCgroup(env, path);
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(group.get());
  attr.attach_bpf_fd = static_cast<uint32_t>(prog);
  attr.attach_type = type;
  attr.attach_flags = flags;
  if (Bpf(BPF_PROG_ATTACH, &attr) < 0) throw ErrnoError(env, errno, "bpf(BPF_PROG_ATTACH)", path);
  return env.Undefined();
}

// bpfCgroupQuery(cgroupDir, attachType, effective) -> { flags, ids }: the programs
// attached to the group itself, or (effective) those that act on its processes.
Napi::Value BpfCgroupQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "cgroupDir");
  uint32_t type = static_cast<uint32_t>(IntArg(info, 1, "attachType"));
  bool effective = info.Length() > 2 && info[2].ToBoolean().Value();
  UniqueFd group = OpenCgroup(env, path);
  std::vector<uint32_t> ids(64, 0);
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.query.target_fd = static_cast<uint32_t>(group.get());
  attr.query.attach_type = type;
  attr.query.query_flags = effective ? BPF_F_QUERY_EFFECTIVE : 0;
  attr.query.prog_ids = reinterpret_cast<uintptr_t>(ids.data());
  attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
  if (Bpf(BPF_PROG_QUERY, &attr) < 0) throw ErrnoError(env, errno, "bpf(BPF_PROG_QUERY)", path);
  Napi::Object out = Napi::Object::New(env);
  out.Set("flags", Napi::Number::New(env, attr.query.attach_flags));
  uint32_t count = attr.query.prog_cnt < ids.size() ? attr.query.prog_cnt : ids.size();
  Napi::Array list = Napi::Array::New(env, count);
  for (uint32_t i = 0; i < count; i++) list.Set(i, Napi::Number::New(env, ids[i]));
  out.Set("ids", list);
  return out;
}

Napi::Object BpfConstants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  c.Set("PROG_TYPE_CGROUP_SOCK_ADDR", Napi::Number::New(env, BPF_PROG_TYPE_CGROUP_SOCK_ADDR));
  c.Set("CGROUP_INET4_BIND", Napi::Number::New(env, BPF_CGROUP_INET4_BIND));
  c.Set("CGROUP_INET6_BIND", Napi::Number::New(env, BPF_CGROUP_INET6_BIND));
  c.Set("F_ALLOW_OVERRIDE", Napi::Number::New(env, BPF_F_ALLOW_OVERRIDE));
  c.Set("F_ALLOW_MULTI", Napi::Number::New(env, BPF_F_ALLOW_MULTI));
  return c;
}

}  // namespace outpost
