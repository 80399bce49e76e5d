import { setTimeout as sleep } from "node:timers/promises";
import { Cgroup, formatCpuList, spawn } from "../../native/index.js";
import { RealtimeError } from "../errors.js";
import type { ProfileName } from "../profiles/profiles.js";
import {
  type BudgetVerdict,
  defaultLatencyBudget,
  judgeLatency,
  type LatencyBudget,
} from "./budget.js";
import type { LatencyReport } from "./report.js";
import { LATENCY_TEST_DEFAULTS, runLatencyTest } from "./run.js";

export interface VerifyOptions {
  /** The instance's cores. */
  cpus: readonly number[];
  /** An unisolated core, loaded like the housekeeping ones: the baseline. */
  baselineCpu: number;
  /** Where stress-ng runs (the housekeeping CPUs), and how many CPU stressors. */
  load: { cpus: readonly number[]; stressors: number };
  profile: ProfileName;
  /** `uname -m`: the budget differs on ARM. */
  machine: string;
  preemptRt: boolean;
  loops?: number;
  priority?: number;
  histogramMaxUs?: number;
  signal?: AbortSignal;
}

export interface VerifyResult {
  /** The instance's cores and the baseline, measured in the same run. */
  report: LatencyReport;
  budget: LatencyBudget;
  /** Judged on the instance's cores only. */
  verdict: BudgetVerdict;
  load: string;
}

/** No budget to check against: the profile promises no latency. */
export class NoLatencyBudgetError extends RealtimeError {
  readonly code = "E_RT_NO_BUDGET";
  constructor(readonly profile: ProfileName) {
    super(`profile ${profile} promises no latency: nothing to verify`);
  }
}

/**
 * Proof for one RT instance: the latency probe on its cores and, in the same run, on an
 * unisolated core, while stress-ng loads the housekeeping CPUs (in a group of its own,
 * killed after); judged against the profile's default budget. On a kernel without
 * PREEMPT_RT the verdict is `not-rt`, whatever the figures.
 */
export async function verifyLatency(options: VerifyOptions): Promise<VerifyResult> {
  const budget = defaultLatencyBudget(options.profile, options.machine);
  if (budget === null) throw new NoLatencyBudgetError(options.profile);
  const loops = options.loops ?? LATENCY_TEST_DEFAULTS.loops;
  const seconds = Math.ceil((loops * budget.intervalUs) / 1e6) + 5;
  const taskset = formatCpuList(options.load.cpus);
  const args = [
    ...["--cpu", String(options.load.stressors), "--vm", "1", "--vm-bytes", "64M"],
    ...["--taskset", taskset, "--timeout", `${seconds}s`, "--quiet"],
  ];
  const group = Cgroup.own().createChild(`outpost-rt-verify-load-${process.pid}`, {
    cpus: options.load.cpus,
  });
  try {
    const stressor = spawn({
      command: "stress-ng",
      args,
      cgroup: group,
      stdio: ["ignore", "ignore", "inherit"],
      parentDeathSignal: "SIGKILL",
    });
    let report: LatencyReport;
    try {
      report = await runLatencyTest({
        cpus: [...options.cpus, options.baselineCpu],
        interval: budget.intervalUs,
        loops,
        priority: options.priority ?? 99,
        histogramMaxUs: options.histogramMaxUs ?? LATENCY_TEST_DEFAULTS.histogramMaxUs,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } finally {
      // SIGTERM lets stress-ng reap its workers; the group kill is the backstop.
      stressor.kill("SIGTERM");
      await Promise.race([stressor.exited, sleep(2000)]);
      await group.kill();
      await stressor.exited;
    }
    const mine = { ...report, cpus: report.cpus.filter((c) => options.cpus.includes(c.cpu)) };
    return {
      report,
      budget,
      verdict: judgeLatency(mine, budget, options.preemptRt),
      load: `stress-ng ${args.slice(0, 6).join(" ")} on cpu ${taskset}`,
    };
  } finally {
    await group.remove();
  }
}
