#pragma once
#include <napi.h>

namespace outpost {

// latencyProbeStart({ cpus, priority, intervalUs, loops, histogramBuckets,
//                     mlockall, munlockall }) → { promise, stop }
//
// One pthread per CPU, pinned and SCHED_FIFO, measuring wake-up latency the way
// cyclictest does (absolute-time clock_nanosleep on CLOCK_MONOTONIC, next += interval,
// latency = now − next). The promise settles on the JS thread once every probe thread
// has been joined; `stop()` ends the run early. Arguments are checked by the TS facade.
Napi::Value LatencyProbeStart(const Napi::CallbackInfo& info);

}  // namespace outpost
