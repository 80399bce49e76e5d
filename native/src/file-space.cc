#include "file-space.h"

#include <fcntl.h>
#include <linux/falloc.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "errno-error.h"
#include "js-args.h"

namespace outpost {

namespace {

int64_t OffsetArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  double d = info[index].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<int64_t>(d)))
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must be an integer >= 0");
  return static_cast<int64_t>(d);
}

class FallocateWorker : public Napi::AsyncWorker {
 public:
  FallocateWorker(Napi::Env env, int fd, int mode, int64_t offset, int64_t length, std::string path)
      : Napi::AsyncWorker(env, "outpost:fallocate"),
        deferred_(Napi::Promise::Deferred::New(env)),
        fd_(fd),
        mode_(mode),
        offset_(offset),
        length_(length),
        path_(std::move(path)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    while (fallocate(fd_, mode_, static_cast<off_t>(offset_), static_cast<off_t>(length_)) != 0) {
      if (errno != EINTR) {
        err_ = errno;
        return;
      }
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (err_ != 0) deferred_.Reject(ErrnoError(env, err_, "fallocate", path_).Value());
    else deferred_.Resolve(env.Undefined());
  }

 private:
  Napi::Promise::Deferred deferred_;
  int fd_, mode_;
  int64_t offset_, length_;
  std::string path_;
  int err_ = 0;
};

}  // namespace

// fallocate(fd, mode, offset, length, path?) -> Promise<void>; `path` only names the
// file in the error. The caller keeps `fd` open until the promise settles.
Napi::Value Fallocate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  int mode = IntArg(info, 1, "mode");
  int64_t offset = OffsetArg(info, 2, "offset");
  int64_t length = OffsetArg(info, 3, "length");
  std::string path = info.Length() > 4 && info[4].IsString() ? info[4].As<Napi::String>().Utf8Value() : "";
  auto* worker = new FallocateWorker(env, fd, mode, offset, length, std::move(path));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Object FileSpaceConstants(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("FALLOC_FL_KEEP_SIZE", FALLOC_FL_KEEP_SIZE);
  out.Set("FALLOC_FL_PUNCH_HOLE", FALLOC_FL_PUNCH_HOLE);
  out.Set("FALLOC_FL_COLLAPSE_RANGE", FALLOC_FL_COLLAPSE_RANGE);
  out.Set("FALLOC_FL_ZERO_RANGE", FALLOC_FL_ZERO_RANGE);
  out.Set("FALLOC_FL_INSERT_RANGE", FALLOC_FL_INSERT_RANGE);
  return out;
}

}  // namespace outpost
