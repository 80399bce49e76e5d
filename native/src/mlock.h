#pragma once
#include <napi.h>

namespace outpost {

// mlockall(flags) with flags from MlockConstants; munlockall().
Napi::Value Mlockall(const Napi::CallbackInfo& info);
Napi::Value Munlockall(const Napi::CallbackInfo& info);
// { CURRENT, FUTURE, ONFAULT }
Napi::Object MlockConstants(Napi::Env env);

}  // namespace outpost
