import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { RECORD_SCHEMA_FINGERPRINT } from "../collector/record.js";
import { connect } from "../master/postgres/connection.js";
import { READING_COLUMNS, readingCopyLine } from "../master/postgres/copy-text.js";
import { migrate as migratePostgres } from "../master/postgres/migrations.js";
import { Partitions } from "../master/postgres/partitions.js";
import { decodeChunk } from "../master/readings/chunk-decoder.js";
import type { DecodedRecord } from "../master/readings/record-reader.js";
import { compiledReader } from "../master/readings/record-readers.js";
import { VALUE_KIND } from "../master/readings/value-kind.js";
import { migrate } from "../master/sqlite/migrations.js";
import { type PostgresServer, startPostgres } from "../test/helpers/postgres-server.js";
import { startMasterProcess, stopMasterProcess } from "./lib/master-process.js";
import { report } from "./lib/report.js";
import {
  commitCount,
  countPostgresReadings,
  countSqliteReadings,
  peakRssMiB,
  percentile,
  raiseFileLimit,
  SCHEMA_TEXT,
  TelemetryLoad,
} from "./lib/telemetry-load.js";

/**
 * Telemetry ingest over the real link, decoded into readings: N simulated nodes (each a
 * DEALER with its own CURVE key, all in this process) give the master the collector's
 * record schema, then forward chunks of real collector records (Avro, in buffer frames)
 * over loopback to a master running as `outpost master start` in a child process, one
 * chunk in flight per node as a forwarder does. Ours: records committed per second
 * (acked = committed = decoded into one readings row each, counted in the master's
 * database afterwards). Baseline, same run: the same rows, decoded beforehand, inserted
 * straight into a SQLite file of the same schema and pragmas (prepared statements, one
 * transaction per round of N chunks, no network, no dedupe, no decode). Also: p99 ack
 * latency and the master's peak RSS.
 *
 * With `--store postgres` (by default both stores run), the same again against a
 * PostgreSQL server the bench starts (test/helpers/postgres-server.ts) and stops: the
 * master runs with `--store postgres://…`; the baseline COPYs the same decoded rows,
 * formatted by the store's own line writer, into a fresh database of the store's schema
 * in the same server (partitions and series made beforehand), one COPY and transaction
 * per round of N chunks. At 100 nodes the PostgreSQL ratio spans 0.19–0.55 (the baseline
 * swings most on the shared box; SQLite's was 0.52). What limits it, timed per statement
 * in the master: the group commits run back to back (about 49 chunks each), and of their
 * time the decode takes 24 %, the COPY 31 % (slower than the baseline's: the master's
 * event loop serves the nodes meanwhile), its lines 9 %, the rollup upsert 10 %, the
 * chunk rows 5 %, BEGIN/savepoint/COMMIT 8 %. The locks, dedupe SELECT and schema texts
 * (four round trips, 7 %) now go in one pipelined round trip. See master/README.md.
 * The last line's `ours`/`baseline` are the SQLite row (as before); every store's
 * figures are in `extra` as `STORE_nN_…`.
 *
 *   npm run bench -- ingest [--store sqlite,postgres] [--nodes 100,1000] [--chunks 20]
 *     [--records 100] [--tags 10]
 *
 * 1,000 DEALERs need about 3 descriptors each here and one each in the master: the soft
 * RLIMIT_NOFILE is raised to the hard one (the master inherits it), and a hard limit too
 * low for the largest N is refused before anything starts.
 */
const { values: args } = parseArgs({
  options: {
    store: { type: "string", default: "sqlite,postgres" },
    nodes: { type: "string", default: "100,1000" },
    chunks: { type: "string", default: "20" },
    records: { type: "string", default: "100" },
    tags: { type: "string", default: "10" },
  },
});

function wholeNumber(key: string, text: string): number {
  if (!/^[1-9]\d{0,6}$/.test(text)) {
    process.stderr.write(`bench ingest: --${key} must be a whole number above 0\n`);
    process.exit(2);
  }
  return Number(text);
}

type StoreKind = "sqlite" | "postgres";
const stores = args.store.split(",") as StoreKind[];
if (stores.some((s) => s !== "sqlite" && s !== "postgres")) {
  process.stderr.write("bench ingest: --store takes sqlite, postgres or both (comma-separated)\n");
  process.exit(2);
}
const nodeCounts = args.nodes.split(",").map((n) => wholeNumber("nodes", n));
const chunksPerNode = wholeNumber("chunks", args.chunks);
const recordsPerChunk = wholeNumber("records", args.records);
const tagsPerNode = wholeNumber("tags", args.tags);
const load = new TelemetryLoad({ chunksPerNode, recordsPerChunk, tagsPerNode });

/** Where the master keeps its state: its SQLite file, or a fresh database of `pg`. */
type MasterStore = { kind: "sqlite" } | { kind: "postgres"; pg: PostgresServer };

async function overTheLink(
  nodes: number,
  store: MasterStore,
): Promise<{ recordsPerSec: number; p99: number; rss: number; chunksPerCommit: number }> {
  const data = mkdtempSync(join(tmpdir(), "outpost-bench-ingest-"));
  const database = store.kind === "postgres" ? await store.pg.createDatabase() : undefined;
  const { child, started } = await startMasterProcess(
    data,
    database ? ["--store", database.url] : [],
  );
  try {
    const token = readFileSync(join(data, "admin.token"), "utf8").trim();
    const { seconds, latencies } = await load.drive(nodes, [{ started, token }]);
    const rss = peakRssMiB(child.pid ?? 0);
    const commits = await commitCount(started.url, token);
    await stopMasterProcess(child);
    const rows =
      store.kind === "postgres" && database
        ? await countPostgresReadings(store.pg, database.name)
        : countSqliteReadings(join(data, "master.db"));
    if (rows !== load.records(nodes))
      throw new Error(`the master holds ${rows} readings, not ${load.records(nodes)}`);
    return {
      recordsPerSec: load.records(nodes) / seconds,
      p99: percentile(latencies, 99),
      rss,
      chunksPerCommit: (nodes * chunksPerNode) / commits,
    };
  } finally {
    await stopMasterProcess(child);
    rmSync(data, { recursive: true, force: true });
  }
}

/** The rows of chunk `c`, decoded by the master's own decoder (outside the timing). */
function decodedRows(): DecodedRecord[][] {
  const reader = compiledReader(RECORD_SCHEMA_FINGERPRINT, SCHEMA_TEXT);
  if (!("read" in reader)) throw new Error(reader.error);
  return load.bodies.map((_, c) => decodeChunk(load.chunkOf(c), reader.read));
}

/**
 * The baseline: the decoded rows inserted into a database of the master's schema with
 * its pragmas (WAL, synchronous FULL), one prepared statement per table, series ids from
 * a map, one transaction per round of N chunks.
 */
async function straightIntoSqlite(nodes: number, rows: DecodedRecord[][]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "outpost-bench-store-"));
  const db = new Database(join(dir, "master.db"));
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    migrate(db);
    const insertSeries = db.prepare("INSERT INTO series (node, device, tag) VALUES (?, ?, ?)");
    const insert = db.prepare(`INSERT INTO readings
      (series, ts, seq, chunk_id, stream, kind, value, quality, status, unit, extra)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const series = new Map<string, number | bigint>();
    const round = db.transaction((c: number) => {
      for (let n = 0; n < nodes; n++) {
        const node = `node-${n}`;
        for (const r of rows[c] ?? []) {
          const key = `${node}\u0000${r.device}\u0000${r.tag}`;
          let id = series.get(key);
          if (id === undefined) {
            id = insertSeries.run(node, r.device, r.tag).lastInsertRowid;
            series.set(key, id);
          }
          const value =
            r.kind === VALUE_KIND.uint64 ? BigInt.asIntN(64, r.value as bigint) : r.value;
          insert.run(
            id,
            r.ts,
            r.seq,
            c,
            "turbine",
            r.kind,
            value,
            r.quality,
            r.status,
            r.unit,
            r.extra,
          );
        }
      }
    });
    const start = process.hrtime.bigint();
    for (let c = 0; c < chunksPerNode; c++) round.immediate(c);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return load.records(nodes) / seconds;
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The PostgreSQL baseline: the decoded rows COPYed into a fresh database of the store's
 * schema in the same server (the day's partition and the series made beforehand, as a
 * running store has them), as the store's writer formats them, one COPY in one
 * transaction per round of N chunks.
 */
async function straightIntoPostgres(
  nodes: number,
  rows: DecodedRecord[][],
  pg: PostgresServer,
): Promise<number> {
  const { url, name } = await pg.createDatabase();
  const { sql } = connect(url);
  try {
    await migratePostgres(sql);
    const times = rows.flatMap((chunk) => chunk.map((r) => r.ts));
    await sql.begin((tx) => new Partitions().ensure(tx, times, Date.now()));
    const series = new Map<string, number>();
    for (let n = 0; n < nodes; n++)
      for (const r of rows[0] ?? []) {
        const key = `node-${n}\u0000${r.device}\u0000${r.tag}`;
        if (series.has(key)) continue;
        const [made] = await sql`INSERT INTO series (node, device, tag)
          VALUES (${`node-${n}`}, ${r.device}, ${r.tag}) RETURNING id`;
        series.set(key, Number(made?.id));
      }
    const start = process.hrtime.bigint();
    for (let c = 0; c < chunksPerNode; c++) {
      await sql.begin(async (tx) => {
        const lines: string[] = [];
        for (let n = 0; n < nodes; n++)
          for (const r of rows[c] ?? [])
            lines.push(
              readingCopyLine(
                series.get(`node-${n}\u0000${r.device}\u0000${r.tag}`),
                c,
                "turbine",
                r,
              ),
            );
        const copy = await tx.unsafe(`COPY readings (${READING_COLUMNS}) FROM STDIN`).writable();
        copy.end(lines.join(""));
        await finished(copy);
      });
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return load.records(nodes) / seconds;
  } finally {
    await sql.end({ timeout: 5 });
    await pg.dropDatabase(name);
  }
}

const extra: Record<string, number | string> = {
  chunks_per_node: chunksPerNode,
  records_per_chunk: recordsPerChunk,
  tags_per_node: tagsPerNode,
};
extra.nofile = raiseFileLimit("ingest", Math.max(...nodeCounts));
const rows = decodedRows();
/** Per store, the figures of the largest N (the last of --nodes). */
const headline = new Map<StoreKind, { ours: number; baseline: number }>();
for (const kind of stores) {
  const pg = kind === "postgres" ? await startPostgres() : undefined;
  const previous = process.env.PGPASSFILE;
  if (pg) process.env.PGPASSFILE = pg.passfile;
  try {
    for (const n of nodeCounts) {
      const link = await overTheLink(n, pg ? { kind, pg } : { kind: "sqlite" });
      const store = pg
        ? await straightIntoPostgres(n, rows, pg)
        : await straightIntoSqlite(n, rows);
      // SQLite's keys stay as they were before PostgreSQL came.
      const p = kind === "sqlite" ? `n${n}` : `${kind}_n${n}`;
      extra[`${p}_records_per_s`] = Math.round(link.recordsPerSec);
      extra[`${p}_baseline_records_per_s`] = Math.round(store);
      extra[`${p}_ratio`] = Number((link.recordsPerSec / store).toFixed(3));
      extra[`${p}_p99_ack_ms`] = Number(link.p99.toFixed(2));
      extra[`${p}_master_peak_rss_mib`] = Number(link.rss.toFixed(1));
      extra[`${p}_chunks_per_commit`] = Number(link.chunksPerCommit.toFixed(1));
      headline.set(kind, { ours: link.recordsPerSec, baseline: store });
    }
  } finally {
    if (pg) {
      if (previous === undefined) delete process.env.PGPASSFILE;
      else process.env.PGPASSFILE = previous;
      await pg.stop();
    }
  }
}
const largest = nodeCounts.at(-1) as number;
extra.nodes = largest;
extra.stores = stores.join(",");
const [firstKind, first] = [...headline][0] as [StoreKind, { ours: number; baseline: number }];

report({
  name: "ingest",
  ours: Math.round(first.ours),
  baseline: Math.round(first.baseline),
  unit: `records/s committed as readings (${firstKind}: ${largest} nodes over loopback CURVE vs decoded rows straight into ${firstKind === "sqlite" ? "SQLite" : "PostgreSQL by COPY"})`,
  better: "higher",
  extra,
});
