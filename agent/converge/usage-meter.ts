import type { Cgroup } from "../../native/index.js";
import type { UsageReport } from "../../protocol/index.js";

/**
 * Usage of one instance's partition, in periods: each `take()` closes the period since
 * the last one (CPU time used in it; the group's memory peak so far).
 */
export class UsageMeter {
  private from: number;
  private lastCpuUs: number;

  constructor(
    readonly instance: string,
    private readonly group: Cgroup,
    now = Date.now(),
  ) {
    this.from = now;
    this.lastCpuUs = group.stats().cpuUsageUs ?? 0;
  }

  take(now = Date.now()): UsageReport {
    const stats = this.group.stats();
    const cpuUs = stats.cpuUsageUs ?? this.lastCpuUs;
    const report: UsageReport = {
      instance: this.instance,
      from: this.from,
      to: Math.max(now, this.from + 1),
      cpuSeconds: Math.max(0, cpuUs - this.lastCpuUs) / 1e6,
      memoryPeakBytes: stats.memoryPeak ?? stats.memoryCurrent ?? 0,
    };
    this.from = report.to;
    this.lastCpuUs = cpuUs;
    return report;
  }
}
