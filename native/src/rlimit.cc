#include "rlimit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cmath>

#include "errno-error.h"
#include "js-args.h"

namespace outpost {

namespace {

Napi::Value LimitToJs(Napi::Env env, rlim_t value) {
  if (value == RLIM_INFINITY) return Napi::Number::New(env, INFINITY);
  return Napi::Number::New(env, static_cast<double>(value));
}

rlim_t LimitFromJs(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  double v = info[index].As<Napi::Number>().DoubleValue();
  if (std::isinf(v) && v > 0) return RLIM_INFINITY;
  if (!(v >= 0)) throw Napi::RangeError::New(info.Env(), std::string(name) + " must be >= 0");
  return static_cast<rlim_t>(v);
}

}  // namespace

Napi::Value GetRlimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = IntArg(info, 0, "pid");
  int resource = IntArg(info, 1, "resource");
  struct rlimit lim;
  if (prlimit(pid, static_cast<__rlimit_resource>(resource), nullptr, &lim) != 0)
    throw ErrnoError(env, errno, "prlimit");
  Napi::Object out = Napi::Object::New(env);
  out.Set("soft", LimitToJs(env, lim.rlim_cur));
  out.Set("hard", LimitToJs(env, lim.rlim_max));
  return out;
}

Napi::Value SetRlimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = IntArg(info, 0, "pid");
  int resource = IntArg(info, 1, "resource");
  struct rlimit lim;
  lim.rlim_cur = LimitFromJs(info, 2, "soft");
  lim.rlim_max = LimitFromJs(info, 3, "hard");
  if (prlimit(pid, static_cast<__rlimit_resource>(resource), &lim, nullptr) != 0)
    throw ErrnoError(env, errno, "prlimit");
  return env.Undefined();
}

Napi::Object RlimitConstants(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("CPU", static_cast<int>(RLIMIT_CPU));
  out.Set("FSIZE", static_cast<int>(RLIMIT_FSIZE));
  out.Set("DATA", static_cast<int>(RLIMIT_DATA));
  out.Set("STACK", static_cast<int>(RLIMIT_STACK));
  out.Set("CORE", static_cast<int>(RLIMIT_CORE));
  out.Set("RSS", static_cast<int>(RLIMIT_RSS));
  out.Set("NPROC", static_cast<int>(RLIMIT_NPROC));
  out.Set("NOFILE", static_cast<int>(RLIMIT_NOFILE));
  out.Set("MEMLOCK", static_cast<int>(RLIMIT_MEMLOCK));
  out.Set("AS", static_cast<int>(RLIMIT_AS));
  out.Set("LOCKS", static_cast<int>(RLIMIT_LOCKS));
  out.Set("SIGPENDING", static_cast<int>(RLIMIT_SIGPENDING));
  out.Set("MSGQUEUE", static_cast<int>(RLIMIT_MSGQUEUE));
  out.Set("NICE", static_cast<int>(RLIMIT_NICE));
  out.Set("RTPRIO", static_cast<int>(RLIMIT_RTPRIO));
  out.Set("RTTIME", static_cast<int>(RLIMIT_RTTIME));
  return out;
}

}  // namespace outpost
