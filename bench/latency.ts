import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { readOnlineCpus } from "../native/index.js";
import {
  type CpuLatency,
  type CyclictestThread,
  type HistogramBuckets,
  histogramPercentile,
  type LatencyReport,
  latencyHistogramSvg,
  parseCyclictestJson,
} from "../realtime/index.js";
import { median, report } from "./lib/report.js";

/**
 * Wake-up latency of `outpost rt latency` against cyclictest (Debian rt-tests) with the
 * same CPU, priority, interval, loops and histogram range, both with memory locked
 * (cyclictest -m locks its whole process, ours the probe threads' stacks and histograms,
 * as mlockall would make V8 abort) and the /dev/cpu_dma_latency request at 0 µs. Same
 * method, so the figures must agree: the ratio of mean latencies sits near 1, within
 * what the box's noise allows (on a shared VM a single disturbed run moves a mean a lot:
 * the rounds alternate which tool goes first so bursts hit both alike).
 * Writes an SVG plot of both histograms (all rounds merged).
 *
 *   npm run bench -- latency [--cpu N] [--priority P] [--interval US] [--loops N]
 *                            [--histogram US] [--rounds N] [--svg PATH]
 */
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const online = readOnlineCpus();
const { values: args } = parseArgs({
  options: {
    cpu: { type: "string", default: String(online.at(-1) ?? 0) },
    priority: { type: "string", default: "80" },
    interval: { type: "string", default: "1000" },
    loops: { type: "string", default: process.env.BENCH_LOOPS ?? "10000" },
    histogram: { type: "string", default: "10000" },
    rounds: { type: "string", default: process.env.BENCH_ROUNDS ?? "3" },
    svg: { type: "string", default: join(root, ".bench-out", "latency.svg") },
  },
});
const settings = {
  cpu: Number(args.cpu),
  priority: Number(args.priority),
  interval: Number(args.interval),
  loops: Number(args.loops),
  histogram: Number(args.histogram),
  rounds: Number(args.rounds),
};
for (const [key, value] of Object.entries(settings)) {
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`bench latency: --${key} must be a whole number\n`);
    process.exit(2);
  }
}

/** One run of one tool, in µs. */
interface Run {
  samples: number;
  min: number;
  avg: number;
  max: number;
  overflow: number;
  histogram: HistogramBuckets;
}

function runOurs(): Run {
  const cli = join(here, "..", "cli", "main.js");
  const r = spawnSync(
    process.execPath,
    [
      ...[cli, "rt", "latency", "--json"],
      ...["--cpus", String(settings.cpu), "--priority", String(settings.priority)],
      ...["--interval", String(settings.interval), "--loops", String(settings.loops)],
      ...["--histogram", String(settings.histogram)],
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`outpost rt latency exited ${r.status}: ${r.stderr.trim()}`);
  const cpu = (JSON.parse(r.stdout) as LatencyReport).cpus[0] as CpuLatency;
  if (cpu.min === null || cpu.avg === null || cpu.max === null) {
    throw new Error("outpost rt latency returned no samples");
  }
  return { ...cpu, min: cpu.min, avg: cpu.avg, max: cpu.max };
}

function runCyclictest(): Run {
  const dir = mkdtempSync(join(tmpdir(), "outpost-bench-latency-"));
  try {
    const json = join(dir, "cyclictest.json");
    const r = spawnSync(
      "cyclictest",
      [
        ...["-m", "-q", "-t1", "-a", String(settings.cpu), "-p", String(settings.priority)],
        ...["-i", String(settings.interval), "-l", String(settings.loops)],
        ...["-h", String(settings.histogram), `--json=${json}`],
      ],
      { encoding: "utf8" },
    );
    if (r.error) throw new Error(`cannot run cyclictest (Debian rt-tests): ${r.error.message}`);
    if (r.status !== 0) throw new Error(`cyclictest exited ${r.status}: ${r.stderr.trim()}`);
    return parseCyclictestJson(readFileSync(json, "utf8"))[0] as CyclictestThread;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** All rounds of one tool as one sample set; `roundAvgs` keeps each round's mean. */
interface Figures extends Run {
  p50: number | null;
  p99: number | null;
  roundAvgs: number[];
}

function merge(runs: readonly Run[]): Figures {
  const counts = new Map<number, number>();
  for (const run of runs) {
    for (const [us, n] of run.histogram) counts.set(us, (counts.get(us) ?? 0) + n);
  }
  const histogram = [...counts.entries()].sort(([a], [b]) => a - b);
  const samples = runs.reduce((n, run) => n + run.samples, 0);
  return {
    samples,
    min: Math.min(...runs.map((run) => run.min)),
    avg: Number((runs.reduce((s, run) => s + run.avg * run.samples, 0) / samples).toFixed(2)),
    max: Math.max(...runs.map((run) => run.max)),
    overflow: runs.reduce((n, run) => n + run.overflow, 0),
    histogram,
    p50: histogramPercentile(histogram, samples, 0.5),
    p99: histogramPercentile(histogram, samples, 0.99),
    roundAvgs: runs.map((run) => run.avg),
  };
}

const oursRuns: Run[] = [];
const baselineRuns: Run[] = [];
try {
  for (let round = 0; round < Math.max(1, settings.rounds); round++) {
    if (round % 2 === 0) {
      oursRuns.push(runOurs());
      baselineRuns.push(runCyclictest());
    } else {
      baselineRuns.push(runCyclictest());
      oursRuns.push(runOurs());
    }
  }
} catch (err) {
  process.stderr.write(`bench latency: ${(err as Error).message}\n`);
  process.exit(1);
}
const ours = merge(oursRuns);
const baseline = merge(baselineRuns);

const show = (v: number | null) => (v === null ? `>=${settings.histogram}` : String(v));
const line = (name: string, f: Figures) =>
  `${name.padEnd(18)} min ${f.min} avg ${f.avg} p50 ${show(f.p50)} p99 ${show(f.p99)} max ${f.max} µs ` +
  `(${f.samples} samples, ${f.overflow} beyond ${settings.histogram} µs; round avgs ${f.roundAvgs.join(", ")})`;
const subtitle =
  `CPU ${settings.cpu}, SCHED_FIFO ${settings.priority}, interval ${settings.interval} µs, ` +
  `${settings.loops} loops × ${oursRuns.length} rounds`;
console.log(`latency: ${subtitle}`);
console.log(line("outpost rt latency", ours));
console.log(line("cyclictest", baseline));

const svg = resolve(args.svg);
mkdirSync(dirname(svg), { recursive: true });
const legend = (name: string, f: Figures) =>
  `${name}: min ${f.min} / avg ${f.avg} / p99 ${show(f.p99)} / max ${f.max} µs`;
writeFileSync(
  svg,
  latencyHistogramSvg(
    [
      {
        label: legend("outpost rt latency", ours),
        histogram: ours.histogram,
        overflow: ours.overflow,
      },
      {
        label: legend("cyclictest", baseline),
        histogram: baseline.histogram,
        overflow: baseline.overflow,
      },
    ],
    { title: "Wake-up latency: outpost rt latency vs cyclictest", subtitle },
  ),
);
console.log(`latency: histogram plot written to ${svg}`);

report({
  name: "latency",
  ours: ours.avg,
  baseline: baseline.avg,
  unit: "µs (mean wake-up latency)",
  better: "lower",
  extra: {
    cpu: settings.cpu,
    priority: settings.priority,
    interval_us: settings.interval,
    loops: settings.loops,
    rounds: oursRuns.length,
    ours_min_us: ours.min,
    ours_p50_us: ours.p50 ?? `>=${settings.histogram}`,
    ours_p99_us: ours.p99 ?? `>=${settings.histogram}`,
    ours_max_us: ours.max,
    ours_median_round_avg_us: median(ours.roundAvgs),
    cyclictest_min_us: baseline.min,
    cyclictest_p50_us: baseline.p50 ?? `>=${settings.histogram}`,
    cyclictest_p99_us: baseline.p99 ?? `>=${settings.histogram}`,
    cyclictest_max_us: baseline.max,
    cyclictest_median_round_avg_us: median(baseline.roundAvgs),
    svg,
  },
});
