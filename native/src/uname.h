#pragma once
#include <napi.h>

namespace outpost {

Napi::Value Uname(const Napi::CallbackInfo& info);

}  // namespace outpost
