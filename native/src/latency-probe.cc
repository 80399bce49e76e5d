#include "latency-probe.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "errno-error.h"

namespace outpost {
namespace {

constexpr int64_t kNsPerSec = 1000000000;
constexpr int64_t kNsPerUs = 1000;
constexpr size_t kStackSize = 256 * 1024;

// One mapping per probe thread holding everything its loop touches: a guard page, its
// stack and its histogram. Being our own mapping, it can be mlock()ed without locking
// Node's heap: mlockall() would, and V8 aborts when its GC madvise()s locked pages.
class Region {
 public:
  Region() = default;
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
  Region& operator=(Region&&) = delete;
  Region(Region&& other) noexcept
      : base_(other.base_),
        size_(other.size_),
        stack_(other.stack_),
        histogram_(other.histogram_),
        buckets_(other.buckets_) {
    other.base_ = nullptr;
  }
  ~Region() { Unmap(); }

  void Unmap() {
    if (base_ != nullptr) munmap(base_, size_);
    base_ = nullptr;
  }

  // Returns 0 or the errno of the failing call, named in *syscall.
  int Map(size_t buckets, bool lock, const char** syscall) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t histBytes = (buckets * sizeof(double) + page - 1) / page * page;
    size_ = page + kStackSize + histBytes;
    void* base = mmap(nullptr, size_, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (base == MAP_FAILED) {
      *syscall = "mmap";
      return errno;
    }
    base_ = static_cast<char*>(base);
    if (mprotect(base_, page, PROT_NONE) != 0) {
      *syscall = "mprotect";
      return errno;
    }
    stack_ = base_ + page;
    histogram_ = reinterpret_cast<double*>(stack_ + kStackSize);
    buckets_ = buckets;
    // mlock also faults every page in, so no page fault lands in a measurement.
    if (lock && mlock(stack_, kStackSize + histBytes) != 0) {
      *syscall = "mlock";
      return errno;
    }
    return 0;
  }

  void* stack() const { return stack_; }
  double* histogram() const { return histogram_; }
  size_t buckets() const { return buckets_; }

 private:
  char* base_ = nullptr;
  size_t size_ = 0;
  char* stack_ = nullptr;
  double* histogram_ = nullptr;
  size_t buckets_ = 0;
};

// One measurement thread. Written only by that thread while it runs, read on the JS
// thread only after pthread_join, so no field needs to be atomic.
struct ProbeThread {
  int cpu = 0;
  pthread_t handle{};
  bool created = false;
  pid_t tid = 0;
  int policy = -1;
  int priority = -1;
  std::vector<int> affinity;
  uint64_t samples = 0;
  int64_t minUs = 0;
  int64_t maxUs = 0;
  int64_t sumUs = 0;
  uint64_t overflow = 0;
  Region memory;
  int error = 0;
  const char* syscall = "";
};

enum class Gate { kWait, kGo, kAbandon };

struct ProbeRun {
  int priority = 0;
  int64_t intervalNs = 0;
  uint64_t loops = 0;
  std::vector<ProbeThread> threads;
  std::atomic<bool> stop{false};
  std::atomic<bool> cancelled{false};
  std::atomic<size_t> running{0};
  // Threads wait here until every one of them was created, so a failed pthread_create
  // can be reported synchronously without any thread having touched its scheduling.
  std::mutex gateMutex;
  std::condition_variable gateCv;
  Gate gate = Gate::kWait;
  Napi::ThreadSafeFunction tsfn;
  // Created once the threads run, so an early throw leaves no promise unsettled.
  std::unique_ptr<Napi::Promise::Deferred> deferred;
};

struct ThreadArg {
  std::shared_ptr<ProbeRun> run;
  size_t index;
};

void OpenGate(ProbeRun& run, Gate gate) {
  {
    std::lock_guard<std::mutex> lock(run.gateMutex);
    run.gate = gate;
  }
  run.gateCv.notify_all();
}

void Fail(ProbeRun& run, ProbeThread& t, int err, const char* syscall) {
  t.error = err;
  t.syscall = syscall;
  run.stop.store(true);
}

void ReadBack(ProbeThread& t) {
  t.tid = gettid();
  t.policy = sched_getscheduler(0);
  sched_param param{};
  if (sched_getparam(0, &param) == 0) t.priority = param.sched_priority;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) t.affinity.push_back(cpu);
    }
  }
}

void AddNs(timespec& ts, int64_t ns) {
  ts.tv_sec += ns / kNsPerSec;
  ts.tv_nsec += ns % kNsPerSec;
  if (ts.tv_nsec >= kNsPerSec) {
    ts.tv_nsec -= kNsPerSec;
    ts.tv_sec++;
  }
}

// cyclictest's timerthread() in clock_nanosleep/TIMER_ABSTIME mode: the first wake-up is
// one interval after the start, each next one is the previous target plus the interval
// (never "now + interval", so a late wake-up does not shift the schedule), and the
// latency is the time read right after waking minus the target, truncated to µs.
void Measure(ProbeRun& run, ProbeThread& t) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(t.cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) return Fail(run, t, errno, "sched_setaffinity");
  sched_param param{};
  param.sched_priority = run.priority;
  if (sched_setscheduler(0, SCHED_FIFO, &param) != 0) {
    return Fail(run, t, errno, "sched_setscheduler");
  }
  ReadBack(t);

  double* histogram = t.memory.histogram();
  const size_t buckets = t.memory.buckets();
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  timespec next = now;
  AddNs(next, run.intervalNs);
  while (!run.stop.load(std::memory_order_relaxed)) {
    int ret = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
    if (ret != 0) {
      Fail(run, t, ret, "clock_nanosleep");
      break;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t us = ((now.tv_sec - next.tv_sec) * kNsPerSec + (now.tv_nsec - next.tv_nsec)) / kNsPerUs;
    if (t.samples == 0 || us < t.minUs) t.minUs = us;
    if (t.samples == 0 || us > t.maxUs) t.maxUs = us;
    t.sumUs += us;
    if (us >= 0 && static_cast<uint64_t>(us) < buckets) {
      histogram[us] += 1;
    } else {
      t.overflow++;
    }
    if (++t.samples == run.loops) break;
    AddNs(next, run.intervalNs);
  }

  // The bookkeeping after the last sample needs no real-time priority.
  sched_param normal{};
  sched_setscheduler(0, SCHED_OTHER, &normal);
}

Napi::Object ThreadResult(Napi::Env env, const ProbeThread& t) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("cpu", t.cpu);
  out.Set("tid", t.tid);
  out.Set("policy", t.policy);
  out.Set("priority", t.priority);
  Napi::Array affinity = Napi::Array::New(env, t.affinity.size());
  for (size_t i = 0; i < t.affinity.size(); ++i) affinity.Set(i, t.affinity[i]);
  out.Set("affinity", affinity);
  out.Set("samples", static_cast<double>(t.samples));
  out.Set("minUs", static_cast<double>(t.minUs));
  out.Set("maxUs", static_cast<double>(t.maxUs));
  out.Set("sumUs", static_cast<double>(t.sumUs));
  out.Set("overflow", static_cast<double>(t.overflow));
  Napi::Float64Array histogram = Napi::Float64Array::New(env, t.memory.buckets());
  std::memcpy(histogram.Data(), t.memory.histogram(), t.memory.buckets() * sizeof(double));
  out.Set("histogram", histogram);
  return out;
}

// Runs on the JS thread once the last probe thread is done with its samples.
void Finish(Napi::Env env, const std::shared_ptr<ProbeRun>& run) {
  for (ProbeThread& t : run->threads) pthread_join(t.handle, nullptr);
  Napi::HandleScope scope(env);
  Napi::Value settled;
  bool failed = false;
  for (const ProbeThread& t : run->threads) {
    if (t.error == 0) continue;
    Napi::Error error = ErrnoError(env, t.error, t.syscall);
    error.Value().Set("cpu", t.cpu);
    settled = error.Value();
    failed = true;
    break;
  }
  if (!failed) {
    Napi::Object out = Napi::Object::New(env);
    out.Set("cancelled", run->cancelled.load());
    Napi::Array cpus = Napi::Array::New(env, run->threads.size());
    for (size_t i = 0; i < run->threads.size(); ++i) {
      cpus.Set(i, ThreadResult(env, run->threads[i]));
    }
    out.Set("cpus", cpus);
    settled = out;
  }
  // The stop() function keeps `run` alive until it is garbage-collected; the locked
  // memory must not wait for that.
  for (ProbeThread& t : run->threads) t.memory.Unmap();
  if (failed) {
    run->deferred->Reject(settled);
  } else {
    run->deferred->Resolve(settled);
  }
}

void* ProbeMain(void* raw) {
  std::unique_ptr<ThreadArg> arg(static_cast<ThreadArg*>(raw));
  ProbeRun& run = *arg->run;
  {
    std::unique_lock<std::mutex> lock(run.gateMutex);
    run.gateCv.wait(lock, [&run] { return run.gate != Gate::kWait; });
    if (run.gate == Gate::kAbandon) return nullptr;
  }
  Measure(run, run.threads[arg->index]);
  if (run.running.fetch_sub(1) == 1) {
    std::shared_ptr<ProbeRun> keep = arg->run;
    run.tsfn.BlockingCall([keep](Napi::Env env, Napi::Function) { Finish(env, keep); });
    run.tsfn.Release();
  }
  return nullptr;
}

int64_t IntegerOption(const Napi::Object& options, const char* key) {
  Napi::Value value = options.Get(key);
  if (!value.IsNumber()) {
    throw Napi::TypeError::New(options.Env(),
                               std::string("latency probe: ") + key + " must be a number");
  }
  return value.As<Napi::Number>().Int64Value();
}

bool BoolOption(const Napi::Object& options, const char* key) {
  Napi::Value value = options.Get(key);
  if (!value.IsBoolean()) {
    throw Napi::TypeError::New(options.Env(),
                               std::string("latency probe: ") + key + " must be a boolean");
  }
  return value.As<Napi::Boolean>().Value();
}

}  // namespace

Napi::Value LatencyProbeStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) {
    throw Napi::TypeError::New(env, "latency probe: options must be an object");
  }
  Napi::Object options = info[0].As<Napi::Object>();
  Napi::Value cpusValue = options.Get("cpus");
  if (!cpusValue.IsArray()) throw Napi::TypeError::New(env, "latency probe: cpus must be an array");
  Napi::Array cpus = cpusValue.As<Napi::Array>();
  if (cpus.Length() == 0) throw Napi::TypeError::New(env, "latency probe: cpus must not be empty");

  auto run = std::make_shared<ProbeRun>();
  run->priority = static_cast<int>(IntegerOption(options, "priority"));
  run->intervalNs = IntegerOption(options, "intervalUs") * kNsPerUs;
  run->loops = static_cast<uint64_t>(IntegerOption(options, "loops"));
  const size_t buckets = static_cast<size_t>(IntegerOption(options, "histogramBuckets"));
  const bool lock = BoolOption(options, "lockMemory");
  run->threads.resize(cpus.Length());
  for (uint32_t i = 0; i < cpus.Length(); ++i) {
    Napi::Value cpu = cpus.Get(i);
    if (!cpu.IsNumber()) throw Napi::TypeError::New(env, "latency probe: cpus must hold numbers");
    run->threads[i].cpu = cpu.As<Napi::Number>().Int32Value();
  }
  for (ProbeThread& t : run->threads) {
    const char* syscall = "";
    int err = t.memory.Map(buckets, lock, &syscall);
    if (err != 0) throw ErrnoError(env, err, syscall);
  }

  run->tsfn = Napi::ThreadSafeFunction::New(
      env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "outpost.latencyProbe", 0,
      1);

  // Signals meant for Node (SIGCHLD, SIGINT, SIGWINCH…) must never run a handler on a
  // SCHED_FIFO probe thread nor cut its sleep short: the threads start with all blocked.
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int createError = 0;
  for (size_t i = 0; i < run->threads.size(); ++i) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, run->threads[i].memory.stack(), kStackSize);
    auto* arg = new ThreadArg{run, i};
    createError = pthread_create(&run->threads[i].handle, &attr, ProbeMain, arg);
    pthread_attr_destroy(&attr);
    if (createError != 0) {
      delete arg;
      break;
    }
    run->threads[i].created = true;
    char name[16];
    snprintf(name, sizeof name, "outpost-lat%u",
             static_cast<unsigned>(run->threads[i].cpu) % 10000u);
    pthread_setname_np(run->threads[i].handle, name);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);

  if (createError != 0) {
    OpenGate(*run, Gate::kAbandon);
    for (ProbeThread& t : run->threads) {
      if (t.created) pthread_join(t.handle, nullptr);
    }
    run->tsfn.Release();
    throw ErrnoError(env, createError, "pthread_create");
  }

  run->deferred = std::make_unique<Napi::Promise::Deferred>(Napi::Promise::Deferred::New(env));
  run->running.store(run->threads.size());
  OpenGate(*run, Gate::kGo);

  Napi::Object out = Napi::Object::New(env);
  out.Set("promise", run->deferred->Promise());
  out.Set("stop", Napi::Function::New(
                      env,
                      [run](const Napi::CallbackInfo&) {
                        run->cancelled.store(true);
                        run->stop.store(true);
                      },
                      "stop"));
  return out;
}

}  // namespace outpost
