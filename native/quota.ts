import { nativeAddon } from "./addon.js";

/**
 * Project quotas (ext4 `-O project` mounted `prjquota`, XFS `pquota`): a directory's
 * project id, inherited by what is created below it, and the block and inode limits of
 * a project id. Every call takes a descriptor of a file on the filesystem (a directory
 * opened O_NOFOLLOW: no path is resolved here) and the path it was opened as, which
 * only names it in errors. Errors are shaped like Node's own (`code`, `errno`,
 * `syscall`, `path`): ENOSYS/ENOTTY/EOPNOTSUPP where the filesystem has no quota
 * support, ESRCH where project quota is off. Linux ≥ 5.14 (`quotactl_fd`).
 */

/** The attributes of FS_IOC_FSGETXATTR this module uses. */
export interface FsProjectAttributes {
  projectId: number;
  /** FS_XFLAG_PROJINHERIT: files and directories made below take the project id. */
  inherit: boolean;
}

/** Whether the kernel counts project usage and enforces project limits on this filesystem. */
export interface ProjectQuotaState {
  accounting: boolean;
  enforced: boolean;
}

/** A project's limits (0 = none) and usage. */
export interface ProjectQuota {
  /** Hard limit on space, bytes (a multiple of 1 KiB). */
  blockHardBytes: number;
  blockSoftBytes: number;
  /** Space charged to the project, bytes. */
  spaceBytes: number;
  inodeHard: number;
  inodeSoft: number;
  inodes: number;
}

/** What a project may use: hard limits, 0 = none; soft limits are not used (no grace). */
export interface ProjectLimits {
  bytes: number;
  inodes: number;
}

const MAX_PROJECT_ID = 0xffff_fffe;

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_PROJECT_ID)
    throw new RangeError(`project id must be an integer 0..${MAX_PROJECT_ID} (got ${id})`);
}

function checkCount(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0)
    throw new RangeError(`${name} must be a non-negative integer (got ${v})`);
}

/** FS_IOC_FSGETXATTR: the project id and inherit flag of the file `fd` is open on. */
export function getProjectAttributes(fd: number, path: string): FsProjectAttributes {
  const addon = nativeAddon();
  const attr = addon.fsGetXattr(fd, path);
  return {
    projectId: attr.projid,
    inherit: (attr.xflags & addon.quotaConstants.FS_XFLAG_PROJINHERIT) !== 0,
  };
}

/**
 * FS_IOC_FSGETXATTR then FS_IOC_FSSETXATTR: sets the project id of the file `fd` is
 * open on and, with `inherit`, FS_XFLAG_PROJINHERIT (directories only); its other
 * attributes are kept. Needs the file's owner or CAP_FOWNER, and, to change a project
 * id, the initial user namespace.
 */
export function setProjectAttributes(
  fd: number,
  path: string,
  projectId: number,
  options: { inherit: boolean },
): void {
  checkId(projectId);
  const addon = nativeAddon();
  const bit = addon.quotaConstants.FS_XFLAG_PROJINHERIT;
  const attr = addon.fsGetXattr(fd, path);
  const xflags = options.inherit ? attr.xflags | bit : attr.xflags & ~bit;
  addon.fsSetXattr(fd, path, {
    xflags: xflags >>> 0,
    extsize: attr.extsize,
    projid: projectId,
    cowextsize: attr.cowextsize,
  });
}

/** quotactl_fd(Q_XGETQSTATV): project quota accounting and enforcement on `fd`'s filesystem. */
export function projectQuotaState(fd: number, path: string): ProjectQuotaState {
  const addon = nativeAddon();
  const { flags } = addon.quotaGetState(fd, path);
  const c = addon.quotaConstants;
  return {
    accounting: (flags & c.FS_QUOTA_PDQ_ACCT) !== 0,
    enforced: (flags & c.FS_QUOTA_PDQ_ENFD) !== 0,
  };
}

/** quotactl_fd(Q_GETQUOTA, PRJQUOTA): limits and usage of project `id`. */
export function getProjectQuota(fd: number, path: string, id: number): ProjectQuota {
  checkId(id);
  const addon = nativeAddon();
  const q = addon.quotaGetProject(fd, path, id);
  const block = addon.quotaConstants.QIF_DQBLKSIZE;
  return {
    blockHardBytes: q.bhardlimit * block,
    blockSoftBytes: q.bsoftlimit * block,
    spaceBytes: q.curspace,
    inodeHard: q.ihardlimit,
    inodeSoft: q.isoftlimit,
    inodes: q.curinodes,
  };
}

/**
 * quotactl_fd(Q_SETQUOTA, PRJQUOTA): hard limits of project `id` (bytes rounded up to
 * the kernel's 1 KiB quota blocks; 0 = none); soft limits cleared. Needs CAP_SYS_ADMIN.
 * Processes with CAP_SYS_RESOURCE (root) are not held by it; everyone else gets EDQUOT.
 */
export function setProjectQuota(fd: number, path: string, id: number, limits: ProjectLimits): void {
  checkId(id);
  checkCount("bytes", limits.bytes);
  checkCount("inodes", limits.inodes);
  const addon = nativeAddon();
  const block = addon.quotaConstants.QIF_DQBLKSIZE;
  addon.quotaSetProject(fd, path, id, {
    bhardlimit: Math.ceil(limits.bytes / block),
    bsoftlimit: 0,
    ihardlimit: limits.inodes,
    isoftlimit: 0,
  });
}
