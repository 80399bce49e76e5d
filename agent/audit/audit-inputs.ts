import { closeSync, constants, existsSync, openSync, readFileSync, realpathSync } from "node:fs";
import { release } from "node:os";
import { dirname } from "node:path";
import { gunzipSync } from "node:zlib";
import { type ProjectQuotaState, projectQuotaState } from "../../native/index.js";

/**
 * What `outpost agent audit` judges, read once; the checks are pure over it (tested with
 * other hosts' values).
 */
export interface HostAuditInputs {
  /** The kernel release (`uname -r`). */
  kernel: string;
  /** /proc/self/mounts. */
  mounts: string;
  /** /proc/self/status. */
  status: string;
  /** /proc/sys/kernel/seccomp/actions_avail; null when missing (no seccomp filters). */
  seccompActions: string | null;
  /** The kernel's build configuration and where it was read; null when none is readable. */
  kernelConfig: { source: string; text: string } | null;
  /** The agent's data directory (or the closest existing parent) and its project quota state. */
  data: {
    path: string;
    /** Resolved path the checks locate in `mounts`. */
    resolved: string;
    /** The kernel's answer, or the error `code` it gave (ESRCH: quota off). */
    quota: ProjectQuotaState | { error: string };
  };
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

function kernelConfig(kernel: string): HostAuditInputs["kernelConfig"] {
  try {
    return {
      source: "/proc/config.gz",
      text: gunzipSync(readFileSync("/proc/config.gz")).toString(),
    };
  } catch {
    const boot = `/boot/config-${kernel}`;
    const text = readOrNull(boot);
    return text === null ? null : { source: boot, text };
  }
}

/** The data directory if it exists, else its closest existing parent (where it will be made). */
function existingDir(path: string): string {
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return realpathSync(dir);
}

function quotaOf(dir: string): HostAuditInputs["data"]["quota"] {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    return projectQuotaState(fd, dir);
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? (err as Error).name };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Reads this host's state from /proc, /boot and the data directory's filesystem. */
export function readHostAuditInputs(dataDir: string): HostAuditInputs {
  const kernel = release();
  const resolved = existingDir(dataDir);
  return {
    kernel,
    mounts: readFileSync("/proc/self/mounts", "utf8"),
    status: readFileSync("/proc/self/status", "utf8"),
    seccompActions: readOrNull("/proc/sys/kernel/seccomp/actions_avail"),
    kernelConfig: kernelConfig(kernel),
    data: { path: dataDir, resolved, quota: quotaOf(resolved) },
  };
}
