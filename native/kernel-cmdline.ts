import { readFileSync } from "node:fs";

/**
 * Boot parameters that shape real-time behaviour: CPU isolation and housekeeping, tick
 * and RCU offload, interrupt threading and placement, idle states and watchdogs.
 */
export const RT_KERNEL_PARAMETERS: readonly string[] = [
  "isolcpus",
  "nohz_full",
  "nohz",
  "rcu_nocbs",
  "rcu_nocb_poll",
  "rcutree.kthread_prio",
  "irqaffinity",
  "threadirqs",
  "kthread_cpus",
  "housekeeping",
  "preempt",
  "skew_tick",
  "idle",
  "processor.max_cstate",
  "intel_idle.max_cstate",
  "cpuidle.off",
  "intel_pstate",
  "tsc",
  "nosoftlockup",
  "nowatchdog",
  "nmi_watchdog",
  "mce",
  "transparent_hugepage",
];

/** One `key[=value]` word of the kernel command line; `value` is `null` for a bare flag. */
export interface KernelParameter {
  key: string;
  value: string | null;
}

/**
 * Pure: splits /proc/cmdline the way the kernel does (whitespace, double quotes keep
 * spaces). Words after a lone `--` belong to init, not to the kernel, and are dropped.
 */
export function parseKernelCmdline(text: string): KernelParameter[] {
  const params: KernelParameter[] = [];
  for (const match of text.matchAll(/(?:[^\s"]+|"[^"]*"?)+/g)) {
    const word = match[0];
    if (word === "--") break;
    const eq = word.indexOf("=");
    const unquote = (s: string) => s.replace(/"/g, "");
    params.push(
      eq < 0
        ? { key: unquote(word), value: null }
        : { key: unquote(word.slice(0, eq)), value: unquote(word.slice(eq + 1)) },
    );
  }
  return params;
}

/**
 * Pure: the RT-relevant parameters, as `{ name: value }` (`true` for a bare flag). The
 * kernel keeps the last of repeated parameters for these, and so does this.
 */
export function rtParametersOf(params: readonly KernelParameter[]): Record<string, string | true> {
  const wanted = new Set(RT_KERNEL_PARAMETERS);
  const out: Record<string, string | true> = {};
  for (const { key, value } of params) {
    // The kernel treats '-' and '_' in parameter names alike.
    const name = key.replace(/-/g, "_");
    if (wanted.has(name)) out[name] = value ?? true;
  }
  return out;
}

export function readKernelRtParameters(path = "/proc/cmdline"): Record<string, string | true> {
  return rtParametersOf(parseKernelCmdline(readFileSync(path, "utf8")));
}
