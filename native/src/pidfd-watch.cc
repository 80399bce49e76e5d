#include "pidfd-watch.h"

#include <sys/wait.h>
#include <uv.h>

#include <cerrno>
#include <utility>

#include "errno-error.h"
#include "js-args.h"
#include "linux-abi.h"

namespace outpost {

struct ExitWatch::State {
  uv_poll_t poll;
  napi_env env;
  pid_t pid;
  int pidfd;
  bool reap;
  bool active;
  Napi::FunctionReference callback;
  ExitWatch* owner;
};

namespace {

using State = ExitWatch::State;

void OnClosed(uv_handle_t* handle) { delete static_cast<State*>(handle->data); }

void OnEnvCleanup(void* arg);

// Stops watching and releases the pidfd and the callback; libuv frees the State once
// it has let go of the handle.
void Finish(State* s) {
  if (!s->active) return;
  s->active = false;
  napi_remove_env_cleanup_hook(s->env, OnEnvCleanup, s);
  uv_poll_stop(&s->poll);
  close(s->pidfd);
  s->pidfd = -1;
  s->callback.Reset();
  if (s->owner != nullptr) s->owner->Detach();
  s->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&s->poll), OnClosed);
}

void OnEnvCleanup(void* arg) { Finish(static_cast<State*>(arg)); }

// waitid on the pidfd (Linux 5.4), on the pid before that.
bool Reap(const State* s, siginfo_t* info) {
  for (;;) {
    info->si_pid = 0;
    if (waitid(static_cast<idtype_t>(linux_abi::kPidfdIdType), static_cast<id_t>(s->pidfd), info,
               WEXITED) == 0)
      return true;
    if (errno == EINTR) continue;
    if (errno == EINVAL) break;
    return false;
  }
  for (;;) {
    if (waitid(P_PID, static_cast<id_t>(s->pid), info, WEXITED) == 0) return true;
    if (errno != EINTR) return false;
  }
}

void OnReadable(uv_poll_t* handle, int /*status*/, int /*events*/) {
  auto* s = static_cast<State*>(handle->data);
  Napi::Env env(s->env);
  Napi::HandleScope scope(env);
  Napi::Object result = Napi::Object::New(env);
  result.Set("code", env.Null());
  result.Set("signal", env.Null());
  siginfo_t info;
  if (s->reap && Reap(s, &info)) {
    if (info.si_code == CLD_EXITED) result.Set("code", info.si_status);
    else result.Set("signal", info.si_status);
  }
  Napi::FunctionReference callback = std::move(s->callback);
  Finish(s);
  try {
    callback.MakeCallback(env.Global(), {result});
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env, e.Value());
  }
}

}  // namespace

Napi::Function ExitWatch::Define(Napi::Env env) {
  return DefineClass(env, "ExitWatch",
                     {InstanceMethod("kill", &ExitWatch::Kill), InstanceMethod("ref", &ExitWatch::Ref),
                      InstanceMethod("unref", &ExitWatch::Unref),
                      InstanceMethod("close", &ExitWatch::Close)});
}

ExitWatch::ExitWatch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ExitWatch>(info) {
  Napi::Env env = info.Env();
  pid_t pid = IntArg(info, 0, "pid");
  int pidfd = IntArg(info, 1, "pidfd");
  bool reap = info[2].ToBoolean().Value();
  if (info.Length() < 4 || !info[3].IsFunction()) {
    if (pidfd >= 0) close(pidfd);
    throw Napi::TypeError::New(env, "callback must be a function");
  }
  if (pidfd < 0) {
    pidfd = linux_abi::PidfdOpen(pid);
    if (pidfd < 0) throw ErrnoError(env, errno, "pidfd_open");
  }
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    close(pidfd);
    throw Napi::Error::New(env, "no libuv loop");
  }
  auto* s = new State();
  s->env = env;
  s->pid = pid;
  s->pidfd = pidfd;
  s->reap = reap;
  s->active = false;
  s->owner = this;
  int r = uv_poll_init(loop, &s->poll, pidfd);
  if (r != 0) {
    // uv_poll_init registers nothing when it fails.
    close(pidfd);
    delete s;
    throw ErrnoError(env, -r, "uv_poll_init");
  }
  s->poll.data = s;
  s->callback = Napi::Persistent(info[3].As<Napi::Function>());
  s->active = true;
  napi_add_env_cleanup_hook(env, OnEnvCleanup, s);
  uv_poll_start(&s->poll, UV_READABLE, OnReadable);
  state_ = s;
}

ExitWatch::~ExitWatch() {
  if (state_ != nullptr) state_->owner = nullptr;
}

Napi::Value ExitWatch::Kill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sig = IntArg(info, 0, "signal");
  if (state_ == nullptr) throw ErrnoError(env, ESRCH, "pidfd_send_signal");
  if (linux_abi::PidfdSendSignal(state_->pidfd, sig) != 0)
    throw ErrnoError(env, errno, "pidfd_send_signal");
  return env.Undefined();
}

Napi::Value ExitWatch::Ref(const Napi::CallbackInfo& info) {
  if (state_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(&state_->poll));
  return info.Env().Undefined();
}

Napi::Value ExitWatch::Unref(const Napi::CallbackInfo& info) {
  if (state_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&state_->poll));
  return info.Env().Undefined();
}

Napi::Value ExitWatch::Close(const Napi::CallbackInfo& info) {
  if (state_ != nullptr) Finish(state_);
  return info.Env().Undefined();
}

}  // namespace outpost
