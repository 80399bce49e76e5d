#include <napi.h>

#include "uname.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("uname", Napi::Function::New(env, outpost::Uname, "uname"));
  return exports;
}

}  // namespace

NODE_API_MODULE(outpost, Init)
