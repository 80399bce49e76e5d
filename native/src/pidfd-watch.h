#pragma once
#include <napi.h>

namespace outpost {

// new ExitWatch(pid, pidfd, reap, callback): watches a process through its pidfd on
// libuv's loop (uv_poll: no timer, no thread). pidfd -1 opens one (pidfd_open), which
// is how a process that is not our child is adopted. When the pidfd turns readable the
// watch stops, closes the pidfd and calls callback({ code, signal }): from waitid when
// `reap` (our own child), both null otherwise (the exit status of a non-child is not
// ours to read). Methods: kill(sig) (pidfd_send_signal, race-free against pid reuse),
// ref(), unref(), close(). The pidfd is owned by the watch from construction on.
class ExitWatch : public Napi::ObjectWrap<ExitWatch> {
 public:
  struct State;

  static Napi::Function Define(Napi::Env env);
  explicit ExitWatch(const Napi::CallbackInfo& info);
  ~ExitWatch() override;
  // The watch ended (exit seen, closed, or Node is tearing the environment down).
  void Detach() { state_ = nullptr; }

 private:
  Napi::Value Kill(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  State* state_ = nullptr;
};

}  // namespace outpost
