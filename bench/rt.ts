import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Cgroup, readCpuTopology, spawn, type WatchedProcess } from "../native/index.js";
import {
  assignCores,
  createRtPartition,
  emptyCorePlan,
  KnobJournal,
  type LatencyReport,
  releaseRtPartition,
  sharedCpus,
  steerIrqsOff,
} from "../realtime/index.js";
import { report } from "./lib/report.js";

/**
 * Wake-up latency on an isolated core (v1 exclusive cpuset, load balancing off, movable
 * IRQs steered away) against the same probe on a core shared with the load, both under
 * stress-ng (cpu + vm stressors) in one run. The load runs on the housekeeping cores in
 * the isolated phase and on every core in the shared one. Figures: p99 (ours/baseline)
 * and max. Lower is better; a ratio below 1 is what isolation buys on this box. On v1
 * the exclusive cpuset keeps our groups off the core, not the tasks of the root cpuset
 * (other users of a shared box): those still balance onto it, more so while the load
 * crowds the housekeeping core, and on a non-RT kernel their kernel sections delay the
 * probe.
 *
 *   npm run bench -- rt [--loops N] [--interval US] [--priority P] [--stressors N]
 */
const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    loops: { type: "string", default: process.env.BENCH_LOOPS ?? "8000" },
    interval: { type: "string", default: "1000" },
    priority: { type: "string", default: "80" },
    stressors: { type: "string", default: "2" },
  },
});
const settings = {
  loops: Number(args.loops),
  interval: Number(args.interval),
  priority: Number(args.priority),
  stressors: Number(args.stressors),
};
for (const [key, value] of Object.entries(settings)) {
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`bench rt: --${key} must be a whole number >= 1\n`);
    process.exit(2);
  }
}

/** The CLI as this bench was started: built (dist/) or from the sources under tsx. */
const cli = here.includes(`${join("dist", "bench")}`)
  ? [join(here, "..", "cli", "main.js")]
  : ["--import", "tsx", join(here, "..", "cli", "main.ts")];

const histogramMaxUs = 10_000;
const seconds = Math.ceil((settings.loops * settings.interval) / 1e6) + 5;

function stress(cgroup: Cgroup): WatchedProcess {
  return spawn({
    command: "stress-ng",
    args: [
      ...["--cpu", String(settings.stressors), "--vm", "1", "--vm-bytes", "64M"],
      ...["--timeout", `${seconds}s`, "--quiet"],
    ],
    cgroup,
    stdio: ["ignore", "ignore", "inherit"],
    parentDeathSignal: "SIGKILL",
  });
}

async function probe(cpu: number, cgroup: Cgroup | undefined, out: string): Promise<LatencyReport> {
  const child = spawn({
    command: process.execPath,
    args: [
      ...cli,
      ...["rt", "latency", "--json", "--cpus", String(cpu), "--loops", String(settings.loops)],
      ...["--interval", String(settings.interval), "--priority", String(settings.priority)],
      ...["--histogram", String(histogramMaxUs)],
    ],
    cgroup,
    stdio: ["ignore", { file: out }, "inherit"],
    parentDeathSignal: "SIGKILL",
  });
  const status = await child.exited;
  if (status.code !== 0)
    throw new Error(`latency probe on cpu ${cpu} ended ${JSON.stringify(status)}`);
  return JSON.parse(readFileSync(out, "utf8")) as LatencyReport;
}

/** Runs `run` while stress-ng loads the CPUs of `load`; every stressor is gone after. */
async function underLoad(load: Cgroup, run: () => Promise<LatencyReport>): Promise<LatencyReport> {
  const stressor = stress(load);
  try {
    return await run();
  } finally {
    // SIGTERM lets stress-ng stop and reap its workers; killing the group is the backstop.
    stressor.kill("SIGTERM");
    await Promise.race([stressor.exited, sleep(2000)]);
    await load.kill();
    await stressor.exited;
  }
}

const dir = mkdtempSync(join(tmpdir(), "outpost-bench-rt-"));
const journal = new KnobJournal(join(dir, "knobs.json"));
const own = Cgroup.own();
const plan = assignCores(emptyCorePlan(readCpuTopology()), "bench", 1);
const rtCpus = plan.assigned.bench ?? [];
const rtCpu = rtCpus[0] ?? 0;
const shared = sharedCpus(plan);
const housekeeping = own.createChild(`outpost-bench-rt-hk-${process.pid}`, {
  cpus: [...shared, ...rtCpus],
});
// The load for the shared run: stress-ng on every CPU, the probe's core included.
const everywhere = own.createChild(`outpost-bench-rt-load-${process.pid}`, {
  cpus: [...shared, ...rtCpus],
});
let rt: Cgroup | undefined;
let sharedRun: LatencyReport;
let isolatedRun: LatencyReport;
try {
  sharedRun = await underLoad(everywhere, () => probe(rtCpu, undefined, join(dir, "shared.json")));
  rt = await createRtPartition(own, `outpost-bench-rt-${process.pid}`, rtCpus, {
    shared,
    others: [housekeeping, everywhere],
  });
  const steering = steerIrqsOff(journal, "bench", rtCpus, shared);
  console.log(
    `rt: isolated cpu ${rtCpu}; ${steering.moved.length} IRQs moved off, ${steering.unmovable.length} unmovable`,
  );
  const partition = rt;
  isolatedRun = await underLoad(housekeeping, () =>
    probe(rtCpu, partition, join(dir, "isolated.json")),
  );
} finally {
  journal.recover();
  if (rt !== undefined) await releaseRtPartition(rt, { shared: [...shared, ...rtCpus] });
  await housekeeping.remove();
  await everywhere.remove();
  rmSync(dir, { recursive: true, force: true });
}

const [iso] = isolatedRun.cpus;
const [sh] = sharedRun.cpus;
if (iso === undefined || sh === undefined) throw new Error("a probe returned no CPU");
// p99 beyond the histogram range is unknown: count it as the range (a lower bound).
const p99 = (c: typeof iso) => c.p99 ?? histogramMaxUs;
for (const [label, c] of [
  ["isolated", iso],
  ["shared", sh],
] as const) {
  console.log(
    `rt: ${label.padEnd(8)} cpu ${c.cpu} min ${c.min} avg ${c.avg} p99 ${c.p99 ?? `>=${histogramMaxUs}`} max ${c.max} µs (${c.samples} samples, ${c.overflow} overflow)`,
  );
}
report({
  name: "rt",
  ours: p99(iso),
  baseline: p99(sh),
  unit: "µs p99 wake-up latency under stress-ng (isolated core vs shared core)",
  better: "lower",
  extra: {
    isolatedMaxUs: iso.max ?? Number.NaN,
    sharedMaxUs: sh.max ?? Number.NaN,
    maxRatio: Number(((iso.max ?? Number.NaN) / (sh.max ?? Number.NaN)).toFixed(4)),
    loops: settings.loops,
    intervalUs: settings.interval,
    stressors: `stress-ng --cpu ${settings.stressors} --vm 1 --vm-bytes 64M`,
  },
});
