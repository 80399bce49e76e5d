import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { encodeRecord, RECORD_SCHEMA, RECORD_SCHEMA_FINGERPRINT } from "../collector/record.js";
import { encodeRecords } from "../common/record-frame.js";
import {
  type ExportFormat,
  exportReadings,
  MasterClient,
  openDataDir,
  SqliteStore,
  type StoredChunk,
} from "../master/index.js";
import { startMasterProcess } from "./lib/master-process.js";
import { report } from "./lib/report.js";

/**
 * Exports of a large window through a real master (`outpost master start` in a child
 * process): N readings (10 tags of one device, int64 and float64 values) are stored
 * through the store's own ingest (decoded from real collector chunks), then exported to
 * files with `exportReadings`, as `outpost telemetry export` does, once per format.
 * Ours: readings exported per second (NDJSON, the stream the API sends). Baseline, same
 * run: the same rows read straight from the SQLite file (better-sqlite3, one prepared
 * `SELECT` iterated, nothing written; before and after the exports, the faster read). Also: the master's peak RSS over the exports (the
 * limit is 300 MB), its RSS before them, each format's time and file size.
 *
 *   npm run bench -- export [--readings 10000000] [--formats ndjson,parquet,csv]
 */
const { values: args } = parseArgs({
  options: {
    readings: { type: "string", default: "10000000" },
    formats: { type: "string", default: "ndjson,parquet" },
  },
});
if (!/^[1-9]\d{3,8}$/.test(args.readings)) {
  process.stderr.write("bench export: --readings must be a whole number from 1000\n");
  process.exit(2);
}
const formats = args.formats.split(",") as ExportFormat[];
if (formats.some((f) => !["csv", "ndjson", "parquet"].includes(f)) || !formats.includes("ndjson")) {
  process.stderr.write("bench export: --formats takes csv, ndjson, parquet, and needs ndjson\n");
  process.exit(2);
}
const TOTAL = Math.ceil(Number(args.readings) / 1000) * 1000;
const PER_CHUNK = 1000;
const CHUNKS_PER_COMMIT = 20;
const TAGS = 10;
const T0 = Date.UTC(2026, 0, 1);

/** The readings of chunk `c`: 10 tags sampled every 100 ms, a third of them 64-bit. */
function chunkOf(c: number): StoredChunk {
  const payloads: Buffer[] = [];
  for (let j = 0; j < PER_CHUNK; j++) {
    const i = c * PER_CHUNK + j;
    payloads.push(
      encodeRecord({
        device: "turbine-1",
        tag: `tag-${i % TAGS}`,
        ts: T0 + Math.floor(i / TAGS) * 100,
        value: i % 3 === 0 ? BigInt(i) * 1_000_000_007n : i / 7,
        quality: "good",
        unit: "u",
      }),
    );
  }
  const firstSeq = c * PER_CHUNK + 1;
  return {
    node: "n1",
    chunkId: c + 1,
    stream: "telemetry",
    schema: RECORD_SCHEMA_FINGERPRINT,
    createdAt: T0,
    firstSeq,
    lastSeq: firstSeq + PER_CHUNK - 1,
    records: PER_CHUNK,
    compression: "none",
    body: encodeRecords(payloads, firstSeq),
    receivedAt: T0,
  };
}

async function fill(databasePath: string): Promise<number> {
  const started = performance.now();
  const store = SqliteStore.open(databasePath);
  try {
    await store.addSchema(RECORD_SCHEMA_FINGERPRINT, JSON.stringify(RECORD_SCHEMA), T0);
    let batch: StoredChunk[] = [];
    for (let c = 0; c < TOTAL / PER_CHUNK; c++) {
      batch.push(chunkOf(c));
      if (batch.length === CHUNKS_PER_COMMIT) {
        await store.ingestChunks(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await store.ingestChunks(batch);
  } finally {
    await store.close();
  }
  return (performance.now() - started) / 1000;
}

/** The baseline: every row of the readings table read by one iterated SELECT. */
function sqliteScan(databasePath: string): { rows: number; seconds: number } {
  const db = new Database(databasePath, { readonly: true });
  try {
    const started = performance.now();
    let rows = 0;
    for (const _ of db.prepare("SELECT * FROM readings").safeIntegers(true).iterate()) rows++;
    return { rows, seconds: (performance.now() - started) / 1000 };
  } finally {
    db.close();
  }
}

function rssMiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
}

const dir = mkdtempSync(join(tmpdir(), "outpost-bench-export-"));
let master: ChildProcess | undefined;
try {
  const data = join(dir, "master");
  const dataDir = openDataDir(data);
  console.log(`export: storing ${TOTAL} readings through the store's ingest…`);
  const fillSeconds = await fill(dataDir.databasePath);
  console.log(`export: stored in ${fillSeconds.toFixed(1)} s`);
  const scan = sqliteScan(dataDir.databasePath);
  if (scan.rows !== TOTAL) throw new Error(`the table holds ${scan.rows} rows, not ${TOTAL}`);

  const { child, started } = await startMasterProcess(data);
  master = child;
  const pid = master.pid as number;
  const client = new MasterClient(started.url, dataDir.adminToken);
  const idleRss = rssMiB(pid, "VmRSS");
  const params = { from: T0, to: T0 + (TOTAL / TAGS) * 100 + 1 };
  const extra: Record<string, number | string> = {
    readings: TOTAL,
    master_rss_before_mib: Number(idleRss.toFixed(1)),
    fill_s: Number(fillSeconds.toFixed(1)),
    sqlite_scan_s: Number(scan.seconds.toFixed(2)),
  };
  let ndjsonRate = 0;
  for (const format of formats) {
    const out = join(dir, `export.${format}`);
    const t = performance.now();
    const written = await exportReadings(client, { params, format, out });
    const seconds = (performance.now() - t) / 1000;
    if (written !== TOTAL) throw new Error(`${format}: exported ${written} of ${TOTAL} readings`);
    extra[`${format}_s`] = Number(seconds.toFixed(1));
    extra[`${format}_file_mib`] = Number((statSync(out).size / 2 ** 20).toFixed(1));
    extra[`master_peak_rss_after_${format}_mib`] = Number(rssMiB(pid, "VmHWM").toFixed(1));
    if (format === "ndjson") ndjsonRate = TOTAL / seconds;
    rmSync(out);
  }
  // Read again once the exports warmed the page cache: the faster read is the baseline.
  const again = sqliteScan(dataDir.databasePath);
  if (again.seconds < scan.seconds) scan.seconds = again.seconds;
  extra.sqlite_scan_s = Number(scan.seconds.toFixed(2));
  const peak = rssMiB(pid, "VmHWM");
  extra.master_peak_rss_mib = Number(peak.toFixed(1));
  extra.rss_limit_mib = 300;
  extra.rss_within_limit = peak * 2 ** 20 < 300e6 ? "yes" : "NO";
  report({
    name: "export",
    ours: Math.round(ndjsonRate),
    baseline: Math.round(scan.rows / scan.seconds),
    unit: "readings/s",
    better: "higher",
    extra,
  });
} finally {
  if (master && master.exitCode === null) {
    const exited = new Promise((r) => master?.once("exit", r));
    master.kill("SIGTERM");
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
}
