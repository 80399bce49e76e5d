#include "affinity.h"

#include <sched.h>

#include <cerrno>

#include "cpu-set.h"
#include "errno-error.h"
#include "js-args.h"

namespace outpost {

Napi::Value GetAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = IntArg(info, 0, "pid");
  // The kernel rejects a mask smaller than its nr_cpu_ids; grow until it fits.
  for (int32_t count = 1024; count <= (1 << 20); count *= 2) {
    CpuSet mask({count - 1});
    CPU_ZERO_S(mask.size(), mask.set());
    if (sched_getaffinity(pid, mask.size(), mask.set()) != 0) {
      if (errno == EINVAL) continue;
      throw ErrnoError(env, errno, "sched_getaffinity");
    }
    Napi::Array out = Napi::Array::New(env);
    uint32_t n = 0;
    for (int32_t cpu = 0; cpu < count; cpu++)
      if (CPU_ISSET_S(static_cast<size_t>(cpu), mask.size(), mask.set())) out.Set(n++, cpu);
    return out;
  }
  throw ErrnoError(env, EINVAL, "sched_getaffinity");
}

Napi::Value SetAffinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = IntArg(info, 0, "pid");
  CpuSet mask(IntArray(env, info[1], "cpus"));
  if (sched_setaffinity(pid, mask.size(), mask.set()) != 0)
    throw ErrnoError(env, errno, "sched_setaffinity");
  return env.Undefined();
}

}  // namespace outpost
