#include "fd-at.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "errno-error.h"
#include "js-args.h"
#include "linux-abi.h"

namespace outpost {

namespace {

std::string PathArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  std::string path = info[index].As<Napi::String>().Utf8Value();
  if (path.find('\0') != std::string::npos)
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must not contain NUL");
  return path;
}

uint64_t U64Arg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  double d = info[index].As<Napi::Number>().DoubleValue();
  if (d < 0 || d > 9007199254740991.0)
    throw Napi::TypeError::New(info.Env(), std::string(name) + " is out of range");
  return static_cast<uint64_t>(d);
}

}  // namespace

// openat2(dirfd, path, { flags, mode, resolve }) -> fd, always O_CLOEXEC: no spawned
// child inherits a descriptor of the agent's. EAGAIN (a rename raced the
// lookup under RESOLVE_BENEATH) is retried a few times, as the man page advises.
Napi::Value Openat2(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int dirfd = IntArg(info, 0, "dirfd");
  std::string path = PathArg(info, 1, "path");
  linux_abi::OpenHow how{};
  how.flags = U64Arg(info, 2, "flags") | O_CLOEXEC;
  how.mode = U64Arg(info, 3, "mode");
  how.resolve = U64Arg(info, 4, "resolve");
  int fd = -1;
  for (int attempt = 0; attempt < 8; attempt++) {
    fd = linux_abi::Openat2(dirfd, path.c_str(), &how);
    if (fd >= 0 || errno != EAGAIN) break;
  }
  if (fd < 0) throw ErrnoError(env, errno, "openat2", path);
  return Napi::Number::New(env, fd);
}

Napi::Value Mkdirat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int dirfd = IntArg(info, 0, "dirfd");
  std::string name = PathArg(info, 1, "name");
  int mode = IntArg(info, 2, "mode");
  if (mkdirat(dirfd, name.c_str(), static_cast<mode_t>(mode)) != 0)
    throw ErrnoError(env, errno, "mkdirat", name);
  return env.Undefined();
}

Napi::Value Renameat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int from_dir = IntArg(info, 0, "fromDirfd");
  std::string from = PathArg(info, 1, "from");
  int to_dir = IntArg(info, 2, "toDirfd");
  std::string to = PathArg(info, 3, "to");
  if (renameat(from_dir, from.c_str(), to_dir, to.c_str()) != 0)
    throw ErrnoError(env, errno, "renameat", to);
  return env.Undefined();
}

Napi::Value Unlinkat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int dirfd = IntArg(info, 0, "dirfd");
  std::string name = PathArg(info, 1, "name");
  int flags = IntArg(info, 2, "flags");
  if (unlinkat(dirfd, name.c_str(), flags) != 0) throw ErrnoError(env, errno, "unlinkat", name);
  return env.Undefined();
}

Napi::Object FdAtConstants(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("AT_FDCWD", AT_FDCWD);
  out.Set("AT_REMOVEDIR", AT_REMOVEDIR);
  out.Set("O_PATH", O_PATH);
  out.Set("RESOLVE_NO_XDEV", static_cast<double>(linux_abi::kResolveNoXdev));
  out.Set("RESOLVE_NO_MAGICLINKS", static_cast<double>(linux_abi::kResolveNoMagiclinks));
  out.Set("RESOLVE_NO_SYMLINKS", static_cast<double>(linux_abi::kResolveNoSymlinks));
  out.Set("RESOLVE_BENEATH", static_cast<double>(linux_abi::kResolveBeneath));
  return out;
}

}  // namespace outpost
