#pragma once
#include <napi.h>

namespace outpost {

// schedGetAttr(pid) -> { policy, flags, nice, priority, runtime, deadline, period }
Napi::Value SchedGetAttr(const Napi::CallbackInfo& info);
// schedSetAttr(pid, { policy, flags?, nice?, priority?, runtime?, deadline?, period? })
Napi::Value SchedSetAttr(const Napi::CallbackInfo& info);
// schedPriorityRange(policy) -> { min, max }
Napi::Value SchedPriorityRange(const Napi::CallbackInfo& info);
// { OTHER, FIFO, RR, BATCH, IDLE, DEADLINE, RESET_ON_FORK }
Napi::Object SchedConstants(Napi::Env env);

}  // namespace outpost
