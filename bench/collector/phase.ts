import { parseArgs } from "node:util";
import { pino } from "pino";
import {
  Collector,
  type CollectorConfig,
  type DeviceConfig,
  encodeRecord,
  routeOpcuaLibraryLogs,
  type TelemetryRecord,
} from "../../collector/index.js";

/**
 * One measured run of bench/collector, in a process of its own so that its CPU time and
 * RSS are the collector's alone: polls (Modbus) or subscribes to (OPC-UA) the simulator,
 * encodes every record with the Avro schema as `collector run` does, and prints one JSON
 * line of figures for the measured window.
 */
const { values: args } = parseArgs({
  options: {
    kind: { type: "string" },
    endpoint: { type: "string" },
    devices: { type: "string", default: "1" },
    tags: { type: "string", default: "1" },
    coalesce: { type: "string", default: "on" },
    "interval-ms": { type: "string", default: "1000" },
    "warmup-ms": { type: "string", default: "2000" },
    seconds: { type: "string", default: "10" },
    base: { type: "string", default: "1000" },
  },
});

const devices = Number(args.devices);
const tags = Number(args.tags);
const intervalMs = Number(args["interval-ms"]);
const endpoint = args.endpoint as string;

function modbusDevices(): DeviceConfig[] {
  const base = Number(args.base);
  return Array.from({ length: devices }, (_, d) => ({
    name: `plc-${d}`,
    interval: intervalMs,
    modbus: {
      tcp: endpoint,
      unit: (d % 247) + 1,
      timeout: "1s",
      retries: 0,
      coalesce: args.coalesce === "on",
      maxGap: 0,
      maxRegisters: 125,
      maxBits: 2000,
      pipeline: 8,
    },
    tags: Array.from({ length: tags }, (_, t) => ({
      name: `r${t}`,
      register: "holding" as const,
      address: base + t,
      type: t % 2 === 0 ? ("uint16" as const) : ("int16" as const),
      order: "ABCD" as const,
    })),
  }));
}

function opcuaDevices(): DeviceConfig[] {
  return [
    {
      name: "turbine",
      interval: intervalMs,
      opcua: { endpoint, security: { mode: "None" }, timeout: "30s", batchSize: 1000 },
      tags: Array.from({ length: tags }, (_, t) => ({
        name: `t${t}`,
        node: `ns=1;s=Tag.${t}`,
        samplingInterval: intervalMs,
        queueSize: 1,
        maxArrayLength: 1024,
      })),
    },
  ];
}

const logger = pino({ level: "silent" });
routeOpcuaLibraryLogs(logger);

let good = 0;
let all = 0;
let bytes = 0;
let counting = false;
const config: CollectorConfig = {
  dataDir: process.env.OUTPOST_BENCH_DATA_DIR ?? "/tmp",
  devices: args.kind === "opcua" ? opcuaDevices() : modbusDevices(),
};
const collector = new Collector(config, {
  logger,
  output: {
    async write(records: TelemetryRecord[]) {
      for (const r of records) {
        const encoded = encodeRecord(r);
        if (!counting) continue;
        all++;
        bytes += encoded.length;
        if (r.quality === "good") good++;
      }
    },
  },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const setupStart = Date.now();
await collector.start();
// Subscriptions take a while to create: warm-up starts once every input runs.
while (collector.stats().some((s) => s.state === "starting")) await sleep(50);
const setupMs = Date.now() - setupStart;
await sleep(Number(args["warmup-ms"]));

const statsBefore = collector.stats();
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 250);
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
counting = true;
await sleep(Number(args.seconds) * 1000);
counting = false;
const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
clearInterval(sampler);
const statsAfter = collector.stats();
await collector.stop();

const sum = (stats: typeof statsAfter, key: "gathers" | "overruns" | "failures") =>
  stats.reduce((n, s) => n + s[key], 0);
process.stdout.write(
  `${JSON.stringify({
    recordsPerSec: (all / wallUs) * 1e6,
    goodPerSec: (good / wallUs) * 1e6,
    goodRecords: good,
    cpuPercent: ((cpu.user + cpu.system) / wallUs) * 100,
    cpuMsPer1000: good === 0 ? null : (cpu.user + cpu.system) / 1000 / (good / 1000),
    peakRssMb: peakRss / 2 ** 20,
    avroBytesPerRecord: all === 0 ? 0 : bytes / all,
    gathers: sum(statsAfter, "gathers") - sum(statsBefore, "gathers"),
    overruns: sum(statsAfter, "overruns") - sum(statsBefore, "overruns"),
    failures: sum(statsAfter, "failures") - sum(statsBefore, "failures"),
    setupMs,
  })}\n`,
);
