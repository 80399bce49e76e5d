import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { instanceRealtimeOf } from "../../agent/index.js";
import { hasCode } from "../../common/errors.js";
import { formatCpuList, readOnlineCpus, readSystemInfo } from "../../native/index.js";
import {
  latencyHistogramSvg,
  latencyHistogramText,
  type VerifyResult,
  verifyLatency,
} from "../../realtime/index.js";
import { printState, withJsonOption } from "../output.js";
import type { CommandContext } from "../program.js";
import { UsageError } from "../usage-error.js";

/** Exit statuses: scripts gate on the proof. `not-rt`: no bound can be proven on this kernel. */
const EXIT_VERIFY_FAILED = 1;
const EXIT_NOT_RT = 3;
const EXIT_INTERRUPTED = 130;

interface VerifyOptions {
  instance: string;
  data: string;
  loops: number;
  priority: number;
  svg?: string;
  json?: boolean;
}

interface VerifyOutput extends VerifyResult {
  instance: string;
  profile: string;
  cores: number[];
  baselineCpu: number;
  svg: string;
}

function whole(min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || n < min || n > max)
      throw new InvalidArgumentError(`must be a whole number in ${min}..${max}.`);
    return n;
  };
}

function render(out: VerifyOutput): string {
  const row = (cpu: number) => out.report.cpus.find((c) => c.cpu === cpu);
  const line = (label: string, cpu: number) => {
    const c = row(cpu);
    return c
      ? `${label.padEnd(9)} cpu ${cpu}: min ${c.min} avg ${c.avg} p99 ${c.p99 ?? `>=${out.report.histogramMaxUs}`} max ${c.max} µs (${c.samples} samples, ${c.overflow} overflow)`
      : `${label} cpu ${cpu}: no samples`;
  };
  const budget = [
    out.budget.maxUs !== undefined ? `max ${out.budget.maxUs} µs` : undefined,
    out.budget.jitterUs !== undefined ? `jitter ${out.budget.jitterUs} µs` : undefined,
  ]
    .filter(Boolean)
    .join(", ");
  const series = [
    ...out.cores.map((cpu) => ({ cpu, label: `${out.instance} cpu ${cpu}` })),
    { cpu: out.baselineCpu, label: `shared cpu ${out.baselineCpu}` },
  ].map((s) => ({
    label: s.label,
    histogram: row(s.cpu)?.histogram ?? [],
    overflow: row(s.cpu)?.overflow ?? 0,
  }));
  return [
    `${out.instance} (${out.profile}) on cpu ${formatCpuList(out.cores)}; probe SCHED_FIFO ${out.report.priority}, ${out.report.interval} µs cycle, ${out.report.loops} loops; load: ${out.load}`,
    ...out.cores.map((cpu) => line("instance", cpu)),
    line("baseline", out.baselineCpu),
    "",
    latencyHistogramText(series, out.report.histogramMaxUs),
    "",
    `budget (${out.profile}): ${budget}`,
    `verdict: ${out.verdict.status} — ${out.verdict.detail}`,
    `histogram: ${out.svg}`,
  ].join("\n");
}

async function verify(context: CommandContext, options: VerifyOptions): Promise<void> {
  let view: ReturnType<typeof instanceRealtimeOf>;
  try {
    view = instanceRealtimeOf(options.data, options.instance);
  } catch (err) {
    if (hasCode(err, "E_AGENT_REALTIME")) throw new UsageError(`--instance: ${err.message}`);
    throw err;
  }
  const shared = readOnlineCpus().filter((cpu) => !view.held.includes(cpu));
  const baselineCpu = shared.at(-1);
  if (baselineCpu === undefined)
    throw new UsageError("no shared CPU left for the load and the baseline");
  const info = readSystemInfo();
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once("SIGINT", onSigint);
  let result: VerifyResult;
  try {
    result = await verifyLatency({
      cpus: view.cores,
      baselineCpu,
      load: { cpus: shared, stressors: shared.length },
      profile: view.profile,
      machine: info.kernel.machine,
      preemptRt: info.preemptRt.verdict,
      loops: options.loops,
      priority: options.priority,
      signal: controller.signal,
    });
  } catch (err) {
    if (!hasCode(err, "ABORT_ERR")) throw err;
    context.io.stderr.write("outpost: rt verify interrupted; nothing judged\n");
    process.exitCode = EXIT_INTERRUPTED;
    return;
  } finally {
    process.off("SIGINT", onSigint);
  }
  const svg = resolve(options.svg ?? `outpost-rt-verify-${options.instance}.svg`);
  const plotted = [...view.cores, baselineCpu].map((cpu) => {
    const c = result.report.cpus.find((r) => r.cpu === cpu);
    const label =
      cpu === baselineCpu ? `shared cpu ${cpu} (baseline)` : `${options.instance} cpu ${cpu}`;
    return { label, histogram: c?.histogram ?? [], overflow: c?.overflow ?? 0 };
  });
  writeFileSync(
    svg,
    latencyHistogramSvg(plotted, {
      title: `${options.instance} (${view.profile}): wake-up latency under load`,
      subtitle: `${result.load}; verdict ${result.verdict.status}`,
    }),
  );
  const out: VerifyOutput = {
    ...result,
    instance: options.instance,
    profile: view.profile,
    cores: view.cores,
    baselineCpu,
    svg,
  };
  printState(context.io, options, out, render);
  if (result.verdict.status === "fail") process.exitCode = EXIT_VERIFY_FAILED;
  if (result.verdict.status === "not-rt") process.exitCode = EXIT_NOT_RT;
}

/** `outpost rt verify --instance X`: the proof of an RT instance's latency, on its node. */
export function registerRtVerify(rt: Command, context: CommandContext): void {
  withJsonOption(
    rt
      .command("verify")
      .description(
        "run the latency probe on an RT instance's cores under stress-ng on the housekeeping cores, beside a shared core, and judge it against the profile's budget; exit 1 on fail, 3 when the kernel is not PREEMPT_RT",
      )
      .requiredOption("--instance <name>", "the RT instance, as the master names it")
      .requiredOption("--data <dir>", "the agent's data directory (its journal says which cores)")
      .option("--loops <n>", "wake-ups per CPU (1 ms each)", whole(100, 100_000_000), 10_000)
      .option(
        "--priority <prio>",
        "SCHED_FIFO priority of the probe, above the instance's",
        whole(1, 99),
        99,
      )
      .option(
        "--svg <file>",
        "where the histogram plot goes (default ./outpost-rt-verify-NAME.svg)",
      ),
  ).action((options: VerifyOptions) => verify(context, options));
}
