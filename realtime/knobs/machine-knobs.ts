import type { KnobJournal } from "./journal.js";

export const RT_RUNTIME_KNOB = "/proc/sys/kernel/sched_rt_runtime_us";

export function governorPath(cpu: number, sysRoot = "/sys/devices/system"): string {
  return `${sysRoot}/cpu/cpu${cpu}/cpufreq/scaling_governor`;
}

/**
 * Lifts RT throttling machine-wide (`-1`: SCHED_FIFO may take the whole period) for
 * `owner`, original journaled; `journal.release(owner)` puts the throttle back.
 */
export function liftRtThrottling(
  journal: KnobJournal,
  owner: string,
  knob = RT_RUNTIME_KNOB,
): void {
  journal.change(knob, "-1", owner);
}

/** Pins each CPU's cpufreq governor (e.g. `performance`) for `owner`; CPUs without cpufreq are skipped. */
export function setGovernors(
  journal: KnobJournal,
  owner: string,
  cpus: readonly number[],
  governor: string,
  sysRoot = "/sys/devices/system",
): number[] {
  const set: number[] = [];
  for (const cpu of cpus) {
    try {
      journal.change(governorPath(cpu, sysRoot), governor, owner);
      set.push(cpu);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  return set;
}
