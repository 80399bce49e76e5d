import type { ProfileName } from "../profiles/profiles.js";
import type { CpuLatency, LatencyReport } from "./report.js";

/**
 * What a profile promises, as wake-up latency: `maxUs` bounds every sample, `jitterUs`
 * bounds max − min at a cycle of `intervalUs`.
 */
export interface LatencyBudget {
  maxUs?: number;
  jitterUs?: number;
  intervalUs: number;
}

/**
 * Starting points to tune per box: `sdr-gnb` max 50 µs on x86 (150 µs on ARM), `plc`
 * jitter ≤ 100 µs at a 1 ms cycle; `best-effort` promises nothing (`null`).
 */
export function defaultLatencyBudget(profile: ProfileName, machine: string): LatencyBudget | null {
  if (profile === "sdr-gnb") {
    return { maxUs: /^(x86_64|i[3-6]86)$/.test(machine) ? 50 : 150, intervalUs: 1000 };
  }
  if (profile === "plc") return { jitterUs: 100, intervalUs: 1000 };
  return null;
}

export type BudgetStatus = "pass" | "fail" | "not-rt";

export interface BudgetVerdict {
  status: BudgetStatus;
  detail: string;
}

function over(cpu: CpuLatency, budget: LatencyBudget, rangeUs: number): string[] {
  const problems: string[] = [];
  // Overflow samples are >= the histogram range: above any budget inside the range.
  if (cpu.overflow > 0) problems.push(`${cpu.overflow} sample(s) at or above ${rangeUs} µs`);
  if (budget.maxUs !== undefined && cpu.max !== null && cpu.max > budget.maxUs) {
    problems.push(`max ${cpu.max} µs > ${budget.maxUs} µs`);
  }
  if (budget.jitterUs !== undefined && cpu.max !== null && cpu.min !== null) {
    const jitter = cpu.max - cpu.min;
    if (jitter > budget.jitterUs) problems.push(`jitter ${jitter} µs > ${budget.jitterUs} µs`);
  }
  return problems;
}

/**
 * Pure: judges one run against a budget, CPU by CPU. On a kernel without PREEMPT_RT
 * the verdict is `not-rt` whatever the figures: a quiet run there proves no bound.
 */
export function judgeLatency(
  report: LatencyReport,
  budget: LatencyBudget,
  preemptRt: boolean,
): BudgetVerdict {
  for (const bound of [budget.maxUs, budget.jitterUs]) {
    if (bound !== undefined && bound >= report.histogramMaxUs) {
      throw new RangeError(
        `a ${bound} µs budget needs a histogram range above it (got ${report.histogramMaxUs} µs)`,
      );
    }
  }
  if (report.interval !== budget.intervalUs) {
    throw new RangeError(
      `the budget is for a ${budget.intervalUs} µs cycle, the run used ${report.interval} µs`,
    );
  }
  const empty = report.cpus.filter((c) => c.samples === 0).map((c) => c.cpu);
  if (report.cpus.length === 0 || empty.length > 0) {
    return { status: "fail", detail: `no samples on cpu ${empty.join(",") || "(none measured)"}` };
  }
  const problems = report.cpus.flatMap((c) =>
    over(c, budget, report.histogramMaxUs).map((p) => `cpu ${c.cpu}: ${p}`),
  );
  const figures = report.cpus.map((c) => `cpu ${c.cpu} max ${c.max} µs`).join(", ");
  if (!preemptRt) {
    return {
      status: "not-rt",
      detail: `kernel is not PREEMPT_RT: measured ${figures}${problems.length > 0 ? ` (${problems.join("; ")})` : ""}, but no bound can be promised`,
    };
  }
  if (problems.length > 0) return { status: "fail", detail: problems.join("; ") };
  return { status: "pass", detail: `within budget: ${figures}` };
}
