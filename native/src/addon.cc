#include <napi.h>

#include "latency-probe.h"
#include "uname.h"
#include "affinity.h"
#include "bpf.h"
#include "fd-at.h"
#include "file-space.h"
#include "mlock.h"
#include "pidfd-watch.h"
#include "quota.h"
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
  exports.Set("fallocate", Napi::Function::New(env, outpost::Fallocate, "fallocate"));
  exports.Set("fileSpaceConstants", outpost::FileSpaceConstants(env));
  exports.Set("bpfProgLoad", Napi::Function::New(env, outpost::BpfProgLoad, "bpfProgLoad"));
  exports.Set("bpfCgroupAttach",
              Napi::Function::New(env, outpost::BpfCgroupAttach, "bpfCgroupAttach"));
  exports.Set("bpfCgroupQuery", Napi::Function::New(env, outpost::BpfCgroupQuery, "bpfCgroupQuery"));
  exports.Set("bpfConstants", outpost::BpfConstants(env));
  exports.Set("fsGetXattr", Napi::Function::New(env, outpost::FsGetXattr, "fsGetXattr"));
  exports.Set("fsSetXattr", Napi::Function::New(env, outpost::FsSetXattr, "fsSetXattr"));
  exports.Set("quotaGetState", Napi::Function::New(env, outpost::QuotaGetState, "quotaGetState"));
  exports.Set("quotaGetProject",
              Napi::Function::New(env, outpost::QuotaGetProject, "quotaGetProject"));
  exports.Set("quotaSetProject",
              Napi::Function::New(env, outpost::QuotaSetProject, "quotaSetProject"));
  exports.Set("quotaConstants", outpost::QuotaConstants(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(outpost, Init)
