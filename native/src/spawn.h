#pragma once
#include <napi.h>

namespace outpost {

// spawn(plan) -> { pid, pidfd, stdin?, stdout?, stderr? }
//
// plan: { file, argv[], env[], cwd?, uid?, gid?, groups[]?, umask?, setsid?,
//         cgroupProcs[]? (cgroup.procs files, v2 and v1, the child writes itself into),
//         sched? ({ policy, flags?, nice?, priority?, runtime?, deadline?, period? }),
//         nice?, cpus[]?, rlimits[]? ({ resource, soft, hard }), pdeathsig?,
//         stdio: [in, out, err] each "inherit" | "ignore" | "pipe" | { path, append? } }
//
// Everything is resolved before fork; the child makes only async-signal-safe calls.
// A failure in the child before execve comes back over a CLOEXEC pipe and is thrown
// here as an errno Error naming the failed syscall; the child is reaped.
Napi::Value Spawn(const Napi::CallbackInfo& info);

}  // namespace outpost
