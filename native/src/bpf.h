#pragma once
#include <napi.h>

namespace outpost {

// The bpf(2) calls that load a program and hang it on a cgroup. Which program, and
// where, is decided in TypeScript (agent/partitions/bind-guard.ts builds the bytes).
Napi::Value BpfProgLoad(const Napi::CallbackInfo& info);
Napi::Value BpfCgroupAttach(const Napi::CallbackInfo& info);
Napi::Value BpfCgroupQuery(const Napi::CallbackInfo& info);
Napi::Object BpfConstants(Napi::Env env);

}  // namespace outpost
