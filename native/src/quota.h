#pragma once
#include <napi.h>

namespace outpost {

// Project quotas, on a descriptor of any file of the filesystem (no device path needed).
// Thin syscalls: which ids, which limits and what to do when the kernel says no are the
// TypeScript side's. Every error names the syscall and the path the caller passed.

// fsGetXattr(fd, path) -> { xflags, extsize, nextents, projid, cowextsize }
// (ioctl FS_IOC_FSGETXATTR)
Napi::Value FsGetXattr(const Napi::CallbackInfo& info);
// fsSetXattr(fd, path, { xflags, extsize, projid, cowextsize }) (ioctl FS_IOC_FSSETXATTR)
Napi::Value FsSetXattr(const Napi::CallbackInfo& info);
// quotaGetState(fd, path) -> { flags } (quotactl_fd Q_XGETQSTATV; FS_QUOTA_* flags)
Napi::Value QuotaGetState(const Napi::CallbackInfo& info);
// quotaGetProject(fd, path, id) -> if_dqblk as numbers (quotactl_fd Q_GETQUOTA, PRJQUOTA)
Napi::Value QuotaGetProject(const Napi::CallbackInfo& info);
// quotaSetProject(fd, path, id, { bhardlimit, bsoftlimit, ihardlimit, isoftlimit })
// (quotactl_fd Q_SETQUOTA, PRJQUOTA, QIF_LIMITS); block limits in 1 KiB units
Napi::Value QuotaSetProject(const Napi::CallbackInfo& info);
// { FS_XFLAG_PROJINHERIT, FS_QUOTA_PDQ_ACCT, FS_QUOTA_PDQ_ENFD, QIF_DQBLKSIZE }
Napi::Object QuotaConstants(Napi::Env env);

}  // namespace outpost
