#pragma once
#include <napi.h>

namespace outpost {

// fd-relative file calls, so the agent can write below a directory a partition or a
// release controls without following a link planted there (openat2 RESOLVE_BENEATH).
Napi::Value Openat2(const Napi::CallbackInfo& info);
Napi::Value Mkdirat(const Napi::CallbackInfo& info);
Napi::Value Renameat(const Napi::CallbackInfo& info);
Napi::Value Unlinkat(const Napi::CallbackInfo& info);
Napi::Object FdAtConstants(Napi::Env env);

}  // namespace outpost
