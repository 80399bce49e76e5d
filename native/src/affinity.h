#pragma once
#include <napi.h>

namespace outpost {

// getAffinity(pid) -> number[]  (sched_getaffinity; a tid names one thread)
Napi::Value GetAffinity(const Napi::CallbackInfo& info);
// setAffinity(pid, cpus: number[])
Napi::Value SetAffinity(const Napi::CallbackInfo& info);

}  // namespace outpost
