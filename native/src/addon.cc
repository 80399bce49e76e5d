#include <napi.h>

#include "latency-probe.h"
#include "uname.h"
#include "affinity.h"
#include "fd-at.h"
#include "mlock.h"
#include "pidfd-watch.h"
#include "rlimit.h"
#include "sched.h"
#include "spawn.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("uname", Napi::Function::New(env, outpost::Uname, "uname"));
  exports.Set("latencyProbeStart",
              Napi::Function::New(env, outpost::LatencyProbeStart, "latencyProbeStart"));
  exports.Set("schedGetAttr", Napi::Function::New(env, outpost::SchedGetAttr, "schedGetAttr"));
  exports.Set("schedSetAttr", Napi::Function::New(env, outpost::SchedSetAttr, "schedSetAttr"));
  exports.Set("schedPriorityRange",
              Napi::Function::New(env, outpost::SchedPriorityRange, "schedPriorityRange"));
  exports.Set("schedConstants", outpost::SchedConstants(env));
  exports.Set("getAffinity", Napi::Function::New(env, outpost::GetAffinity, "getAffinity"));
  exports.Set("setAffinity", Napi::Function::New(env, outpost::SetAffinity, "setAffinity"));
  exports.Set("getRlimit", Napi::Function::New(env, outpost::GetRlimit, "getRlimit"));
  exports.Set("setRlimit", Napi::Function::New(env, outpost::SetRlimit, "setRlimit"));
  exports.Set("rlimitConstants", outpost::RlimitConstants(env));
  exports.Set("mlockall", Napi::Function::New(env, outpost::Mlockall, "mlockall"));
  exports.Set("munlockall", Napi::Function::New(env, outpost::Munlockall, "munlockall"));
  exports.Set("mlockConstants", outpost::MlockConstants(env));
  exports.Set("spawn", Napi::Function::New(env, outpost::Spawn, "spawn"));
  exports.Set("ExitWatch", outpost::ExitWatch::Define(env));
  exports.Set("openat2", Napi::Function::New(env, outpost::Openat2, "openat2"));
  exports.Set("mkdirat", Napi::Function::New(env, outpost::Mkdirat, "mkdirat"));
  exports.Set("renameat", Napi::Function::New(env, outpost::Renameat, "renameat"));
  exports.Set("unlinkat", Napi::Function::New(env, outpost::Unlinkat, "unlinkat"));
  exports.Set("fdAtConstants", outpost::FdAtConstants(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(outpost, Init)
