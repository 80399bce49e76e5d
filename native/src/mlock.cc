#include "mlock.h"

#include <sys/mman.h>

#include <cerrno>

#include "errno-error.h"
#include "js-args.h"

namespace outpost {

Napi::Value Mlockall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int flags = IntArg(info, 0, "flags");
  if (mlockall(flags) != 0) throw ErrnoError(env, errno, "mlockall");
  return env.Undefined();
}

Napi::Value Munlockall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (munlockall() != 0) throw ErrnoError(env, errno, "munlockall");
  return env.Undefined();
}

Napi::Object MlockConstants(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("CURRENT", MCL_CURRENT);
  out.Set("FUTURE", MCL_FUTURE);
  out.Set("ONFAULT", MCL_ONFAULT);
  return out;
}

}  // namespace outpost
