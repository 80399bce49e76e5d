import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

/**
 * The three independent signs of a PREEMPT_RT kernel. Each is `null` when its source is
 * missing, which happens on real RT kernels too: `/sys/kernel/realtime` only exists on
 * kernels carrying it, distributions often build without `/proc/config.gz` and keep no
 * `/boot/config-*`, and vendors rewrite `uname -v`.
 */
export interface PreemptRtSignals {
  /** `/sys/kernel/realtime` reads `1`. */
  sysKernelRealtime: boolean | null;
  /** `uname -v` names PREEMPT_RT (`PREEMPT RT` on kernels before 5.x). */
  unameVersion: boolean;
  /** The kernel config sets `CONFIG_PREEMPT_RT=y` (`CONFIG_PREEMPT_RT_FULL=y` before 5.3). */
  kernelConfig: boolean | null;
}

export interface PreemptRt {
  /** True when any signal says so: none of them appears on a kernel that is not RT. */
  verdict: boolean;
  signals: PreemptRtSignals;
  /** Where the kernel config was read from, `null` when none was found. */
  kernelConfigSource: string | null;
}

/** Pure: `/sys/kernel/realtime` content (null = file missing). */
export function realtimeFlagSaysRt(text: string | null): boolean | null {
  return text === null ? null : text.trim() === "1";
}

/** Pure: the `version` field of uname(2), e.g. `#1 SMP PREEMPT_RT Debian 6.1.90-1`. */
export function unameVersionSaysRt(version: string): boolean {
  return /\bPREEMPT[_ ]RT\b/.test(version);
}

/** Pure: the text of a kernel config (null = no config found). */
export function kernelConfigSaysRt(config: string | null): boolean | null {
  return config === null ? null : /^CONFIG_PREEMPT_RT(?:_FULL)?=y$/m.test(config);
}

/** Pure: the verdict and its evidence. */
export function preemptRtOf(
  signals: PreemptRtSignals,
  kernelConfigSource: string | null,
): PreemptRt {
  const verdict =
    signals.sysKernelRealtime === true || signals.unameVersion || signals.kernelConfig === true;
  return { verdict, signals, kernelConfigSource };
}

export interface KernelRtPaths {
  sysKernelRealtime: string;
  procConfigGz: string;
  /** `/boot/config-<release>`, the fallback when the kernel does not expose its config. */
  bootConfig: (release: string) => string;
}

export const KERNEL_RT_PATHS: KernelRtPaths = {
  sysKernelRealtime: "/sys/kernel/realtime",
  procConfigGz: "/proc/config.gz",
  bootConfig: (release) => `/boot/config-${release}`,
};

function readIfPresent(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** The running kernel's config text and where it came from, or null if none is found. */
export function readKernelConfig(
  release: string,
  paths: KernelRtPaths = KERNEL_RT_PATHS,
): { text: string; source: string } | null {
  const gz = readIfPresent(paths.procConfigGz);
  if (gz !== null) return { text: gunzipSync(gz).toString("utf8"), source: paths.procConfigGz };
  const boot = paths.bootConfig(release);
  const plain = readIfPresent(boot);
  return plain === null ? null : { text: plain.toString("utf8"), source: boot };
}

/** Reads the three signals for the running kernel (`release`, `version` from uname). */
export function readPreemptRt(
  kernel: { release: string; version: string },
  paths: KernelRtPaths = KERNEL_RT_PATHS,
): PreemptRt {
  const flag = readIfPresent(paths.sysKernelRealtime);
  const config = readKernelConfig(kernel.release, paths);
  return preemptRtOf(
    {
      sysKernelRealtime: realtimeFlagSaysRt(flag === null ? null : flag.toString("utf8")),
      unameVersion: unameVersionSaysRt(kernel.version),
      kernelConfig: kernelConfigSaysRt(config?.text ?? null),
    },
    config?.source ?? null,
  );
}
