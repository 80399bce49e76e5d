#include "quota.h"

#include <linux/dqblk_xfs.h>
#include <linux/fs.h>
#include <linux/quota.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "errno-error.h"
#include "js-args.h"

// quotactl_fd(2), Linux 5.14; glibc 2.36 has no wrapper and older headers no number
// (the same on every architecture: the syscall table was unified before it).
#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif

namespace outpost {

namespace {

std::string PathLabel(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || !info[index].IsString())
    throw Napi::TypeError::New(info.Env(), "path must be a string");
  return info[index].As<Napi::String>().Utf8Value();
}

uint64_t U64Field(const Napi::Object& obj, const char* name) {
  Napi::Value v = obj.Get(name);
  if (!v.IsNumber()) throw Napi::TypeError::New(obj.Env(), std::string(name) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0)
    throw Napi::RangeError::New(obj.Env(), std::string(name) + " is out of range");
  return static_cast<uint64_t>(d);
}

uint32_t IdArg(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || !info[index].IsNumber())
    throw Napi::TypeError::New(info.Env(), "id must be a number");
  double d = info[index].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 4294967295.0) throw Napi::RangeError::New(info.Env(), "id is out of range");
  return static_cast<uint32_t>(d);
}

int QuotactlFd(int fd, unsigned cmd, int type, uint32_t id, void* addr) {
  return static_cast<int>(syscall(SYS_quotactl_fd, fd, QCMD(cmd, type), id, addr));
}

Napi::Number N(Napi::Env env, uint64_t v) { return Napi::Number::New(env, static_cast<double>(v)); }

}  // namespace

Napi::Value FsGetXattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  std::string path = PathLabel(info, 1);
  struct fsxattr attr {};
  if (ioctl(fd, FS_IOC_FSGETXATTR, &attr) != 0)
    throw ErrnoError(env, errno, "ioctl(FS_IOC_FSGETXATTR)", path);
  Napi::Object out = Napi::Object::New(env);
  out.Set("xflags", N(env, attr.fsx_xflags));
  out.Set("extsize", N(env, attr.fsx_extsize));
  out.Set("nextents", N(env, attr.fsx_nextents));
  out.Set("projid", N(env, attr.fsx_projid));
  out.Set("cowextsize", N(env, attr.fsx_cowextsize));
  return out;
}

Napi::Value FsSetXattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  std::string path = PathLabel(info, 1);
  if (info.Length() <= 2 || !info[2].IsObject())
    throw Napi::TypeError::New(env, "attributes must be an object");
  Napi::Object in = info[2].As<Napi::Object>();
  struct fsxattr attr {};
  attr.fsx_xflags = static_cast<uint32_t>(U64Field(in, "xflags"));
  attr.fsx_extsize = static_cast<uint32_t>(U64Field(in, "extsize"));
  attr.fsx_projid = static_cast<uint32_t>(U64Field(in, "projid"));
  attr.fsx_cowextsize = static_cast<uint32_t>(U64Field(in, "cowextsize"));
  if (ioctl(fd, FS_IOC_FSSETXATTR, &attr) != 0)
    throw ErrnoError(env, errno, "ioctl(FS_IOC_FSSETXATTR)", path);
  return env.Undefined();
}

Napi::Value QuotaGetState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  std::string path = PathLabel(info, 1);
  struct fs_quota_statv state {};
  state.qs_version = FS_QSTATV_VERSION1;
  if (QuotactlFd(fd, Q_XGETQSTATV, PRJQUOTA, 0, &state) != 0)
    throw ErrnoError(env, errno, "quotactl_fd(Q_XGETQSTATV)", path);
  Napi::Object out = Napi::Object::New(env);
  out.Set("flags", N(env, state.qs_flags));
  return out;
}

Napi::Value QuotaGetProject(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  std::string path = PathLabel(info, 1);
  uint32_t id = IdArg(info, 2);
  struct if_dqblk q {};
  if (QuotactlFd(fd, Q_GETQUOTA, PRJQUOTA, id, &q) != 0)
    throw ErrnoError(env, errno, "quotactl_fd(Q_GETQUOTA)", path);
  Napi::Object out = Napi::Object::New(env);
  out.Set("bhardlimit", N(env, q.dqb_bhardlimit));
  out.Set("bsoftlimit", N(env, q.dqb_bsoftlimit));
  out.Set("curspace", N(env, q.dqb_curspace));
  out.Set("ihardlimit", N(env, q.dqb_ihardlimit));
  out.Set("isoftlimit", N(env, q.dqb_isoftlimit));
  out.Set("curinodes", N(env, q.dqb_curinodes));
  out.Set("btime", N(env, q.dqb_btime));
  out.Set("itime", N(env, q.dqb_itime));
  out.Set("valid", N(env, q.dqb_valid));
  return out;
}

Napi::Value QuotaSetProject(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  std::string path = PathLabel(info, 1);
  uint32_t id = IdArg(info, 2);
  if (info.Length() <= 3 || !info[3].IsObject())
    throw Napi::TypeError::New(env, "limits must be an object");
  Napi::Object in = info[3].As<Napi::Object>();
  struct if_dqblk q {};
  q.dqb_bhardlimit = U64Field(in, "bhardlimit");
  q.dqb_bsoftlimit = U64Field(in, "bsoftlimit");
  q.dqb_ihardlimit = U64Field(in, "ihardlimit");
  q.dqb_isoftlimit = U64Field(in, "isoftlimit");
  q.dqb_valid = QIF_LIMITS;
  if (QuotactlFd(fd, Q_SETQUOTA, PRJQUOTA, id, &q) != 0)
    throw ErrnoError(env, errno, "quotactl_fd(Q_SETQUOTA)", path);
  return env.Undefined();
}

Napi::Object QuotaConstants(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("FS_XFLAG_PROJINHERIT", static_cast<double>(FS_XFLAG_PROJINHERIT));
  out.Set("FS_QUOTA_PDQ_ACCT", static_cast<double>(FS_QUOTA_PDQ_ACCT));
  out.Set("FS_QUOTA_PDQ_ENFD", static_cast<double>(FS_QUOTA_PDQ_ENFD));
  out.Set("QIF_DQBLKSIZE", static_cast<double>(QIF_DQBLKSIZE));
  return out;
}

}  // namespace outpost
