import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { report } from "./lib/report.js";

/**
 * The collector against the turbine simulator (`outpost sim turbine`, its own process):
 *
 * - Modbus TCP: `--devices` devices (unit ids on one simulator endpoint, up to 8 requests
 *   in flight) × `--tags` 16-bit tags each, polled every `--interval-ms`. Ours: request
 *   coalescing on (one request per 100 registers); baseline, same run: the same reads
 *   with coalescing off (one request per tag). Figure: CPU milliseconds the collector
 *   spends per 1,000 good records, each record Avro-encoded as `collector run` does;
 *   records/s, CPU % and peak RSS of both are printed too.
 * - OPC-UA: `--items` monitored items sampled and published every `--opcua-interval-ms`,
 *   created in batches of 1,000: records/s, CPU %, peak RSS and set-up time (no
 *   baseline: coalescing is a Modbus matter), and the simulator's CPU % over the whole
 *   OPC-UA run (set-up included), which tells whether the server is the bottleneck.
 *
 * Each measured run is a child process (bench/collector/phase.js), so CPU and RSS are
 * the collector's alone and no run inherits another's heap.
 *
 * Each run measures after `--warmup-ms`, once start-up's compilation and garbage are done.
 *
 *   npm run bench -- collector [--devices 100] [--tags 100] [--interval-ms 1000]
 *                              [--items 10000] [--opcua-interval-ms 100] [--seconds 10]
 *                              [--warmup-ms 3000]
 */
const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, "..", "cli", "main.js");
const phase = join(here, "collector", "phase.js");

const { values: args } = parseArgs({
  options: {
    devices: { type: "string", default: "100" },
    tags: { type: "string", default: "100" },
    "interval-ms": { type: "string", default: "1000" },
    items: { type: "string", default: "10000" },
    "opcua-interval-ms": { type: "string", default: "100" },
    seconds: { type: "string", default: "10" },
    "warmup-ms": { type: "string", default: "3000" },
  },
});

function wholeNumber(key: keyof typeof args, max: number): number {
  const text = args[key] as string;
  if (!/^[1-9]\d{0,6}$/.test(text) || Number(text) > max) {
    process.stderr.write(`bench collector: --${key} must be a whole number from 1 to ${max}\n`);
    process.exit(2);
  }
  return Number(text);
}

const devices = wholeNumber("devices", 1000);
const tags = wholeNumber("tags", 1000);
const intervalMs = wholeNumber("interval-ms", 60_000);
const items = wholeNumber("items", 50_000);
const opcuaIntervalMs = wholeNumber("opcua-interval-ms", 60_000);
const seconds = wholeNumber("seconds", 3600);
const warmupMs = wholeNumber("warmup-ms", 60_000);

interface PhaseResult {
  recordsPerSec: number;
  goodPerSec: number;
  goodRecords: number;
  cpuPercent: number;
  cpuMsPer1000: number | null;
  peakRssMb: number;
  avroBytesPerRecord: number;
  gathers: number;
  overruns: number;
  failures: number;
  setupMs: number;
}

interface Sim {
  child: ChildProcess;
  modbus: string;
  opcua: string;
}

/** Starts `outpost sim turbine` and reads where it listens from its `--json` output. */
function startSim(dataDir: string): Promise<Sim> {
  const child = spawn(
    process.execPath,
    [
      ...[cli, "sim", "turbine", "--json", "--modbus", "127.0.0.1:0", "--opcua", "0"],
      ...["--tags", String(Math.max(tags, items)), "--data-dir", dataDir],
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  // Its log lines are shown only if it fails to start.
  let err = "";
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      try {
        const state = JSON.parse(out) as { modbus: string; opcua: string };
        resolve({ child, modbus: state.modbus, opcua: state.opcua });
      } catch {
        // The JSON document is not complete yet.
      }
    });
    child.once("exit", (code) =>
      reject(new Error(`sim turbine exited ${code}: ${err.slice(-2000)}`)),
    );
  });
}

function runPhase(options: Record<string, string | number>, dataDir: string): PhaseResult {
  const flags = Object.entries(options).flatMap(([k, v]) => [`--${k}`, String(v)]);
  const r = spawnSync(process.execPath, [phase, ...flags, "--warmup-ms", String(warmupMs)], {
    encoding: "utf8",
    env: { ...process.env, OUTPOST_BENCH_DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (r.status !== 0)
    throw new Error(`bench collector: phase ${flags.join(" ")} exited ${r.status}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "") as PhaseResult;
}

/**
 * CPU time a process has used so far, in ms, from /proc/PID/stat (utime + stime, in
 * clock ticks of 10 ms on Linux): shows whether the simulator or the collector is the
 * bottleneck.
 */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const round = (n: number | null, digits = 3) => (n === null ? -1 : Number(n.toFixed(digits)));

const dir = mkdtempSync(join(tmpdir(), "outpost-bench-collector-"));
const sim = await startSim(join(dir, "sim"));
try {
  const modbus = { kind: "modbus", endpoint: sim.modbus, devices, tags, seconds };
  const on = runPhase({ ...modbus, coalesce: "on", "interval-ms": intervalMs }, dir);
  const off = runPhase({ ...modbus, coalesce: "off", "interval-ms": intervalMs }, dir);
  const simPid = sim.child.pid as number;
  const simCpu0 = cpuMsOf(simPid);
  const opcuaStart = Date.now();
  const opcua = runPhase(
    { kind: "opcua", endpoint: sim.opcua, tags: items, seconds, "interval-ms": opcuaIntervalMs },
    join(dir, "client"),
  );
  const simCpuPercent = ((cpuMsOf(simPid) - simCpu0) / (Date.now() - opcuaStart)) * 100;
  const expected = ((devices * tags) / intervalMs) * 1000;
  if (on.cpuMsPer1000 === null || off.cpuMsPer1000 === null) {
    throw new Error("bench collector: a Modbus run read no good record");
  }
  report({
    name: "collector",
    ours: round(on.cpuMsPer1000),
    baseline: round(off.cpuMsPer1000),
    unit: `CPU ms per 1000 good Modbus records (${devices} devices x ${tags} tags every ${intervalMs} ms)`,
    better: "lower",
    extra: {
      modbus_expected_records_per_s: expected,
      modbus_records_per_s: round(on.goodPerSec, 1),
      modbus_cpu_percent: round(on.cpuPercent, 1),
      modbus_peak_rss_mb: round(on.peakRssMb, 1),
      modbus_overruns: on.overruns,
      modbus_avro_bytes_per_record: round(on.avroBytesPerRecord, 1),
      uncoalesced_records_per_s: round(off.goodPerSec, 1),
      uncoalesced_cpu_percent: round(off.cpuPercent, 1),
      uncoalesced_peak_rss_mb: round(off.peakRssMb, 1),
      uncoalesced_overruns: off.overruns,
      opcua_items: items,
      opcua_interval_ms: opcuaIntervalMs,
      opcua_setup_ms: opcua.setupMs,
      opcua_records_per_s: round(opcua.goodPerSec, 1),
      opcua_cpu_percent: round(opcua.cpuPercent, 1),
      opcua_cpu_ms_per_1000: round(opcua.cpuMsPer1000),
      opcua_peak_rss_mb: round(opcua.peakRssMb, 1),
      opcua_expected_records_per_s: (items / opcuaIntervalMs) * 1000,
      opcua_sim_server_cpu_percent: round(simCpuPercent, 1),
      seconds,
    },
  });
} finally {
  sim.child.kill("SIGTERM");
  await new Promise((r) => sim.child.once("exit", r));
  rmSync(dir, { recursive: true, force: true });
}
