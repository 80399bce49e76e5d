import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { MasterClient } from "../master/index.js";
import { generateKeyPair, type KeyPair } from "../protocol/index.js";
import { type PostgresServer, startPostgres } from "../test/helpers/postgres-server.js";
import { startMasterProcess, stopMasterProcess } from "./lib/master-process.js";
import { report } from "./lib/report.js";
import {
  commitCount,
  countPostgresReadings,
  countSqliteReadings,
  type LoadTarget,
  percentile,
  raiseFileLimit,
  TelemetryLoad,
} from "./lib/telemetry-load.js";

/**
 * How the master scales out. Part one: the same telemetry load (`--nodes` simulated nodes
 * over loopback CURVE, one chunk in flight each, bench/lib/telemetry-load.ts) against one
 * SQLite master, one PostgreSQL master, and two PostgreSQL masters sharing one database,
 * one key pair and one admin token (half the nodes on each). Each prints records/s
 * committed (counted in the store afterwards) and p99 ack; the headline ratio is two
 * PostgreSQL masters over one SQLite master. On this 2-core box the two masters, the
 * PostgreSQL server and the simulated nodes share two cores, so a second master adds
 * no CPU: what it shows is that the shared store keeps up and stays exactly-once, not a
 * speed-up (see master/README.md for what limits it).
 *
 * Part two: how many connected nodes one master (SQLite) holds at a fleet heartbeat of
 * `--heartbeat` seconds (master `--heartbeat`, each node's ZMTP heartbeat and a `sync`
 * per period from a random offset): `--held` links (default: as many as the hard
 * RLIMIT_NOFILE leaves the master, at most 10,000), held by child processes of 4,000
 * links each (bench/lib/held-links.ts). Measured: the master's RSS at half and at all
 * links (the slope is the cost of one more link) and its CPU over one heartbeat period
 * with every link held; every link's sync in that period must succeed.
 *
 *   npm run bench -- scale [--nodes 1000] [--chunks 10] [--records 100] [--tags 10]
 *     [--held 10000] [--heartbeat 60]
 */
const { values: args } = parseArgs({
  options: {
    nodes: { type: "string", default: "1000" },
    chunks: { type: "string", default: "10" },
    records: { type: "string", default: "100" },
    tags: { type: "string", default: "10" },
    held: { type: "string" },
    heartbeat: { type: "string", default: "60" },
  },
});

function whole(key: string, text: string, min: number, max: number): number {
  const n = /^\d{1,7}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min && n <= max)) {
    process.stderr.write(`bench scale: --${key} must be a whole number from ${min} to ${max}\n`);
    process.exit(2);
  }
  return n;
}

const nodes = whole("nodes", args.nodes, 2, 100_000);
const load = new TelemetryLoad({
  chunksPerNode: whole("chunks", args.chunks, 1, 10_000),
  recordsPerChunk: whole("records", args.records, 1, 100_000),
  tagsPerNode: whole("tags", args.tags, 1, 10_000),
});
const heartbeat = whole("heartbeat", args.heartbeat, 1, 3600);
const fileLimit = raiseFileLimit("scale", nodes);
/** Descriptors a master keeps for itself beside one per link (database, HTTP, ZeroMQ). */
const MASTER_OWN_FILES = 300;
const held = Math.min(
  whole("held", args.held ?? "10000", 2, 1_000_000),
  fileLimit - MASTER_OWN_FILES,
);
const LINKS_PER_CHILD = 4_000;
const here = dirname(fileURLToPath(import.meta.url));

/** A second data directory with the first one's key pair and admin token: the fleet's one set of files. */
function sharedDataDir(first: string, second: string): void {
  mkdirSync(second, { mode: 0o700 });
  for (const f of ["master.key", "admin.token"]) copyFileSync(join(first, f), join(second, f));
}

/** `count` masters on one store (SQLite: one master in `dir`/master-0). */
async function startMasters(
  dir: string,
  count: number,
  flags: string[],
): Promise<{ targets: LoadTarget[]; children: ChildProcess[] }> {
  const targets: LoadTarget[] = [];
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const data = join(dir, `master-${i}`);
      if (i > 0) sharedDataDir(join(dir, "master-0"), data);
      const { child, started } = await startMasterProcess(data, flags);
      children.push(child);
      targets.push({ started, token: readFileSync(join(data, "admin.token"), "utf8").trim() });
    }
  } catch (err) {
    for (const child of children) await stopMasterProcess(child);
    throw err;
  }
  return { targets, children };
}

interface LoadFigures {
  recordsPerSec: number;
  p99: number;
  chunksPerCommit: number;
}

async function underLoad(
  label: string,
  count: number,
  pg: PostgresServer | undefined,
): Promise<LoadFigures> {
  const dir = mkdtempSync(join(tmpdir(), `outpost-bench-scale-${label}-`));
  const database = pg ? await pg.createDatabase() : undefined;
  const { targets, children } = await startMasters(
    dir,
    count,
    database ? ["--store", database.url] : [],
  );
  try {
    const { seconds, latencies } = await load.drive(nodes, targets);
    let commits = 0;
    for (const t of targets) commits += await commitCount(t.started.url, t.token);
    for (const child of children) await stopMasterProcess(child);
    const stored =
      pg && database
        ? await countPostgresReadings(pg, database.name)
        : countSqliteReadings(join(dir, "master-0", "master.db"));
    if (stored !== load.records(nodes))
      throw new Error(`${label}: the store holds ${stored} readings, not ${load.records(nodes)}`);
    console.log(`scale: ${label}: ${load.records(nodes)} readings in ${seconds.toFixed(1)} s`);
    return {
      recordsPerSec: load.records(nodes) / seconds,
      p99: percentile(latencies, 99),
      chunksPerCommit: (nodes * load.shape.chunksPerNode) / commits,
    };
  } finally {
    for (const child of children) await stopMasterProcess(child);
    if (pg && database) await pg.dropDatabase(database.name);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Resident and peak memory (MiB) and CPU seconds so far of a process. */
function usage(pid: number): { rss: number; peak: number; cpu: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  // utime and stime, in clock ticks (100 per second on Linux), after the command's ")".
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024, cpu: ticks / 100 };
}

/** A held-links child; resolves once it printed `held N`; `rounds` gets each period's figures. */
function holdLinks(
  spec: object,
  rounds: (ok: number, failed: number) => void,
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [join(here, "lib", "held-links.js"), JSON.stringify(spec)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    let seen = "";
    child.stdout?.on("data", (b: Buffer) => {
      seen += b.toString("utf8");
      const lines = seen.split("\n");
      seen = lines.pop() ?? "";
      for (const line of lines) {
        const m = /^round (\d+) (\d+)$/.exec(line);
        if (m) rounds(Number(m[1]), Number(m[2]));
        if (line.startsWith("held ")) resolve(child);
      }
    });
    child.once("exit", (code) => reject(new Error(`held-links exited ${code}`)));
  });
}

interface HeldFigures {
  links: number;
  rssHalfMiB: number;
  rssMiB: number;
  peakMiB: number;
  kibPerLink: number;
  cpuCores: number;
  syncsOk: number;
  syncsFailed: number;
}

/** Part two: `held` idle links on one SQLite master at a `heartbeat` s fleet setting. */
async function heldLinks(): Promise<HeldFigures> {
  const dir = mkdtempSync(join(tmpdir(), "outpost-bench-scale-held-"));
  const { targets, children } = await startMasters(dir, 1, ["--heartbeat", String(heartbeat)]);
  const master = children[0] as ChildProcess;
  const target = targets[0] as LoadTarget;
  const holders: ChildProcess[] = [];
  let syncsOk = 0;
  let syncsFailed = 0;
  let counting = false;
  try {
    const client = new MasterClient(target.started.url, target.token);
    const keys: KeyPair[] = Array.from({ length: held }, () => generateKeyPair());
    for (let i = 0; i < held; i += 32)
      await Promise.all(
        keys.slice(i, i + 32).map((k, j) => client.addNode(`held-${i + j}`, k.publicKey)),
      );
    const shares: KeyPair[][] = [];
    for (let i = 0; i < held; i += LINKS_PER_CHILD) shares.push(keys.slice(i, i + LINKS_PER_CHILD));
    let rssHalf = Number.NaN;
    let linked = 0;
    for (const [n, share] of shares.entries()) {
      const file = join(dir, `keys-${n}.json`);
      writeFileSync(file, JSON.stringify(share));
      const spec = {
        endpoint: target.started.endpoint,
        publicKey: target.started.publicKey,
        keys: file,
        heartbeatSeconds: heartbeat,
      };
      holders.push(
        await holdLinks(spec, (ok, failed) => {
          if (!counting) return;
          syncsOk += ok;
          syncsFailed += failed;
        }),
      );
      linked += share.length;
      console.log(`scale: ${linked} links held`);
      if (Number.isNaN(rssHalf) && linked >= held / 2) rssHalf = usage(master.pid ?? 0).rss;
    }
    // One whole heartbeat period with every link held: each node's sync falls in it once.
    await new Promise((r) => setTimeout(r, 1000));
    const before = usage(master.pid ?? 0);
    const start = performance.now();
    counting = true;
    await new Promise((r) => setTimeout(r, heartbeat * 1000 + 2000));
    counting = false;
    const after = usage(master.pid ?? 0);
    const wall = (performance.now() - start) / 1000;
    const halfLinks = Math.min(held, LINKS_PER_CHILD * Math.ceil(held / 2 / LINKS_PER_CHILD));
    return {
      links: held,
      rssHalfMiB: rssHalf,
      rssMiB: after.rss,
      peakMiB: after.peak,
      kibPerLink:
        halfLinks < held ? ((after.rss - rssHalf) * 1024) / (held - halfLinks) : Number.NaN,
      cpuCores: (after.cpu - before.cpu) / wall,
      syncsOk,
      syncsFailed,
    };
  } finally {
    await Promise.all(
      holders.map(
        (h) =>
          new Promise((resolve) => {
            if (h.exitCode !== null) return resolve(undefined);
            h.once("exit", resolve);
            h.kill("SIGTERM");
          }),
      ),
    );
    await stopMasterProcess(master);
    rmSync(dir, { recursive: true, force: true });
  }
}

const extra: Record<string, number | string> = {
  nodes,
  chunks_per_node: load.shape.chunksPerNode,
  records_per_chunk: load.shape.recordsPerChunk,
  nofile: fileLimit,
};
const sqlite = await underLoad("sqlite", 1, undefined);
const pg = await startPostgres();
const previous = process.env.PGPASSFILE;
process.env.PGPASSFILE = pg.passfile;
let one: LoadFigures;
let two: LoadFigures;
try {
  one = await underLoad("postgres-1", 1, pg);
  two = await underLoad("postgres-2", 2, pg);
} finally {
  if (previous === undefined) delete process.env.PGPASSFILE;
  else process.env.PGPASSFILE = previous;
  await pg.stop();
}
for (const [key, f] of [
  ["sqlite", sqlite],
  ["postgres_1", one],
  ["postgres_2", two],
] as const) {
  extra[`${key}_records_per_s`] = Math.round(f.recordsPerSec);
  extra[`${key}_p99_ack_ms`] = Number(f.p99.toFixed(2));
  extra[`${key}_chunks_per_commit`] = Number(f.chunksPerCommit.toFixed(1));
}
const h = await heldLinks();
extra.heartbeat_s = heartbeat;
extra.held_links = h.links;
extra.held_master_rss_half_mib = Number(h.rssHalfMiB.toFixed(1));
extra.held_master_rss_mib = Number(h.rssMiB.toFixed(1));
extra.held_master_peak_rss_mib = Number(h.peakMiB.toFixed(1));
extra.held_kib_per_link = Number(h.kibPerLink.toFixed(1));
extra.held_master_cpu_cores = Number(h.cpuCores.toFixed(3));
extra.held_syncs_ok = h.syncsOk;
extra.held_syncs_failed = h.syncsFailed;
if (h.syncsFailed > 0) throw new Error(`${h.syncsFailed} held links' syncs failed`);

report({
  name: "scale",
  ours: Math.round(two.recordsPerSec),
  baseline: Math.round(sqlite.recordsPerSec),
  unit: `records/s committed, ${nodes} nodes: two PostgreSQL masters on one database vs one SQLite master`,
  better: "higher",
  extra,
});
