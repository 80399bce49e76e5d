#include "sched.h"

#include <sched.h>

#include <cerrno>
#include <cstring>

#include "errno-error.h"
#include "js-args.h"
#include "linux-abi.h"

namespace outpost {

Napi::Value SchedGetAttr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = IntArg(info, 0, "pid");
  linux_abi::SchedAttr attr;
  std::memset(&attr, 0, sizeof attr);
  if (linux_abi::SchedGetattr(pid, &attr) != 0) throw ErrnoError(env, errno, "sched_getattr");
  Napi::Object out = Napi::Object::New(env);
  out.Set("policy", attr.sched_policy);
  out.Set("flags", static_cast<double>(attr.sched_flags));
  out.Set("nice", attr.sched_nice);
  out.Set("priority", attr.sched_priority);
  out.Set("runtime", static_cast<double>(attr.sched_runtime));
  out.Set("deadline", static_cast<double>(attr.sched_deadline));
  out.Set("period", static_cast<double>(attr.sched_period));
  return out;
}

Napi::Value SchedSetAttr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = IntArg(info, 0, "pid");
  if (info.Length() < 2 || !info[1].IsObject())
    throw Napi::TypeError::New(env, "attr must be an object");
  Napi::Object in = info[1].As<Napi::Object>();
  linux_abi::SchedAttr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.sched_policy = static_cast<uint32_t>(Int64Field(in, "policy", SCHED_OTHER));
  attr.sched_flags = static_cast<uint64_t>(Int64Field(in, "flags", 0));
  attr.sched_nice = static_cast<int32_t>(Int64Field(in, "nice", 0));
  attr.sched_priority = static_cast<uint32_t>(Int64Field(in, "priority", 0));
  attr.sched_runtime = static_cast<uint64_t>(Int64Field(in, "runtime", 0));
  attr.sched_deadline = static_cast<uint64_t>(Int64Field(in, "deadline", 0));
  attr.sched_period = static_cast<uint64_t>(Int64Field(in, "period", 0));
  if (linux_abi::SchedSetattr(pid, &attr) != 0) throw ErrnoError(env, errno, "sched_setattr");
  return env.Undefined();
}

Napi::Value SchedPriorityRange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int policy = IntArg(info, 0, "policy");
  int min = sched_get_priority_min(policy);
  if (min < 0) throw ErrnoError(env, errno, "sched_get_priority_min");
  int max = sched_get_priority_max(policy);
  if (max < 0) throw ErrnoError(env, errno, "sched_get_priority_max");
  Napi::Object out = Napi::Object::New(env);
  out.Set("min", min);
  out.Set("max", max);
  return out;
}

Napi::Object SchedConstants(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("OTHER", SCHED_OTHER);
  out.Set("FIFO", SCHED_FIFO);
  out.Set("RR", SCHED_RR);
  out.Set("BATCH", SCHED_BATCH);
  out.Set("IDLE", SCHED_IDLE);
  out.Set("DEADLINE", linux_abi::kSchedDeadline);
  out.Set("RESET_ON_FORK", static_cast<double>(linux_abi::kSchedFlagResetOnFork));
  return out;
}

}  // namespace outpost
