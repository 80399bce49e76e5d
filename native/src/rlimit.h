#pragma once
#include <napi.h>

namespace outpost {

// getRlimit(pid, resource) -> { soft, hard }   (Infinity = RLIM_INFINITY)
Napi::Value GetRlimit(const Napi::CallbackInfo& info);
// setRlimit(pid, resource, soft, hard)
Napi::Value SetRlimit(const Napi::CallbackInfo& info);
// { CPU, FSIZE, DATA, STACK, CORE, RSS, NPROC, NOFILE, MEMLOCK, AS, LOCKS, SIGPENDING,
//   MSGQUEUE, NICE, RTPRIO, RTTIME }: the numbers differ between architectures.
Napi::Object RlimitConstants(Napi::Env env);

}  // namespace outpost
