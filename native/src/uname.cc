#include "uname.h"

#include <sys/utsname.h>

#include <cerrno>

#include "errno-error.h"

namespace outpost {

Napi::Value Uname(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct utsname u;
  if (uname(&u) != 0) throw ErrnoError(env, errno, "uname");
  Napi::Object out = Napi::Object::New(env);
  out.Set("sysname", u.sysname);
  out.Set("nodename", u.nodename);
  out.Set("release", u.release);
  out.Set("version", u.version);
  out.Set("machine", u.machine);
  return out;
}

}  // namespace outpost
