#pragma once
#include <napi.h>

namespace outpost {

// fallocate(2) on a libuv worker thread: collapsing a range of a file being appended to
// waits for its dirty pages to be written back, which must not hold the event loop.
Napi::Value Fallocate(const Napi::CallbackInfo& info);
Napi::Object FileSpaceConstants(Napi::Env env);

}  // namespace outpost
