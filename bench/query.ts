import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { get as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openDataDir } from "../master/index.js";
import { startPostgres } from "../test/helpers/postgres-server.js";
import { startMasterProcess, stopMasterProcess } from "./lib/master-process.js";
import {
  fillPostgres,
  fillSqlite,
  type Layout,
  PER_DAY,
  queried,
  readingsOf,
} from "./lib/query-fill.js";
import { median, report } from "./lib/report.js";

/**
 * One tag, one day at 1 Hz (86,400 readings) out of a store holding many more (default
 * ≥ 50 M: `--tags` tags of each of several devices over `--days` days, the devices as
 * many as the count needs), on each store. The store is made by the store's own code,
 * then filled by SQL straight into its tables (query-fill.ts); the queried tag is in the
 * middle of everything.
 *
 * Ours: `GET /v1/readings?node&device&tag&from&to` with `Accept: text/csv` through a real
 * master (`outpost master start`, `--store postgres://…` for PostgreSQL), the whole body
 * read. CSV because it is what an operator's tool takes (a spreadsheet, pandas,
 * `psql \copy`), and the one text both databases' own CLIs write, so both sides produce
 * the same kind of bytes. Baseline: the same rows by the same SQL (the join to the
 * series' names, the time as ISO 8601 in UTC with milliseconds, a header) run directly
 * on the same database by the standard CLI writing CSV to a pipe: `sqlite3 -csv` on the
 * master's file, `psql -c "COPY (SELECT …) TO STDOUT WITH (FORMAT csv, HEADER)"` on the
 * same server. The CLI rather than a driver in this process: a driver would hand the
 * bench rows, not text, so ours would render CSV and the baseline would not; the CLIs
 * render it in C as the master must render it in JS, and like the master they are
 * another process whose output crosses a pipe or socket (their start, a few ms, counts
 * against them, as the HTTP request counts against ours). Both bodies are read and
 * their lines counted by the same code; a warm-up round each, then `--rounds` rounds
 * alternating, the median of each. Ratio: ours / baseline in readings/s.
 *
 *   npm run bench -- query [--store sqlite,postgres] [--readings 50000000] [--tags 50]
 *     [--days 3] [--rounds 5]
 */
const { values: args } = parseArgs({
  options: {
    store: { type: "string", default: "sqlite,postgres" },
    readings: { type: "string", default: "50000000" },
    tags: { type: "string", default: "50" },
    days: { type: "string", default: "3" },
    rounds: { type: "string", default: "5" },
  },
});

function refuse(message: string): never {
  process.stderr.write(`bench query: ${message}\n`);
  process.exit(2);
}

function whole(key: string, text: string, min: number, max: number): number {
  const n = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min && n <= max)) refuse(`--${key} must be a whole number from ${min} to ${max}`);
  return n;
}

type StoreKind = "sqlite" | "postgres";
const stores = args.store.split(",");
if (stores.length === 0 || stores.some((s) => s !== "sqlite" && s !== "postgres"))
  refuse("--store takes sqlite, postgres or both (comma-separated)");
const wanted = whole("readings", args.readings, PER_DAY, 2_000_000_000);
const tags = whole("tags", args.tags, 1, 10_000);
// Within the days PostgreSQL partitions (31 behind its clock) and long enough to have a middle.
const days = whole("days", args.days, 1, 28);
const rounds = whole("rounds", args.rounds, 1, 100);

const today = Date.now() - (Date.now() % 86_400_000);
const layout: Layout = {
  devices: Math.max(1, Math.ceil(wanted / (tags * days * PER_DAY))),
  tags,
  days,
  day0: today - days * 86_400_000,
};
const total = readingsOf(layout);
const target = queried(layout);

/** Lines of a byte stream, as any reader of CSV must find them. */
async function countLines(body: AsyncIterable<Uint8Array>): Promise<number> {
  let lines = 0;
  for await (const chunk of body) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  }
  return lines;
}

/** Runs `read` once, timed; returns readings (lines after the header) and seconds. */
async function timed(read: () => Promise<number>): Promise<{ rows: number; seconds: number }> {
  const t = performance.now();
  const lines = await read();
  return { rows: lines - 1, seconds: (performance.now() - t) / 1000 };
}

function overApi(url: string, token: string, s: typeof target): () => Promise<number> {
  const q = new URLSearchParams({
    node: s.node,
    device: s.device,
    tag: s.tag,
    from: new Date(s.from).toISOString(),
    to: new Date(s.to).toISOString(),
  });
  // node:http rather than fetch: undici's web streams cost this process most of a core on
  // a 2-core box, time the master under test would otherwise get.
  return () =>
    new Promise<number>((resolve, reject) => {
      const req = httpGet(
        `${url}/v1/readings?${q}`,
        { headers: { authorization: `Bearer ${token}`, accept: "text/csv" } },
        (res) => {
          if (res.statusCode !== 200) {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => {
              text += c;
            });
            res.on("end", () => reject(new Error(`GET /v1/readings: ${res.statusCode} ${text}`)));
            return;
          }
          countLines(res).then(resolve, reject);
        },
      );
      req.on("error", reject);
    });
}

/**
 * The SELECT both CLIs run; `iso` is the database's own ISO 8601 rendering of `ts`,
 * `value` the column a double is kept in.
 */
function selectSql(s: typeof target, iso: string, value: string): string {
  return `SELECT ${iso} AS ts, s.node, s.device, s.tag, r.${value} AS value, r.unit, r.quality
    FROM readings r JOIN series s ON s.id = r.series
    WHERE s.node = '${s.node}' AND s.device = '${s.device}' AND s.tag = '${s.tag}'
      AND r.ts >= ${s.from} AND r.ts < ${s.to} AND r.quality = 'good'
    ORDER BY r.ts, r.seq, r.chunk_id`;
}

function overCli(command: string, argv: string[], env: NodeJS.ProcessEnv): () => Promise<number> {
  return async () => {
    const child = spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"], env });
    let err = "";
    child.stderr.on("data", (b: Buffer) => {
      err += b.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
    const lines = await countLines(child.stdout);
    const code = await exited;
    if (code !== 0) throw new Error(`${command} exited ${code}: ${err}`);
    return lines;
  };
}

interface StoreFigures {
  /** Readings each side read per round (the same by construction: checked every round). */
  rows: number;
  ours: number;
  baseline: number;
  fillSeconds: number;
  oursMs: number;
  baselineMs: number;
}

async function measure(api: () => Promise<number>, cli: () => Promise<number>) {
  const ours: number[] = [];
  const base: number[] = [];
  let rows = 0;
  for (let r = -1; r < rounds; r++) {
    const a = await timed(api);
    const b = await timed(cli);
    if (a.rows !== b.rows)
      throw new Error(`read ${a.rows} readings by the API, ${b.rows} by the CLI`);
    rows = a.rows;
    // Round -1 warms the caches and the master's prepared statements.
    if (r >= 0) {
      ours.push(a.seconds);
      base.push(b.seconds);
    }
  }
  return { rows, oursSeconds: median(ours), baselineSeconds: median(base) };
}

async function onStore(kind: StoreKind, dir: string): Promise<StoreFigures> {
  const data = openDataDir(join(dir, kind));
  const server = kind === "postgres" ? await startPostgres() : undefined;
  let master: ChildProcess | undefined;
  try {
    const fillStart = performance.now();
    let cli: () => Promise<number>;
    const extraFlags: string[] = [];
    if (server) {
      const { url } = await server.createDatabase();
      process.env.PGPASSFILE = server.passfile;
      await fillPostgres(url, layout);
      extraFlags.push("--store", url);
      const iso = `to_char(to_timestamp(r.ts / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
      const copy = `COPY (${selectSql(target, iso, "v_double")}) TO STDOUT WITH (FORMAT csv, HEADER)`;
      // PGPASSWORD: libpq matches a password file's `localhost` only to the default socket directory.
      cli = overCli("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", copy], {
        ...process.env,
        PGPASSWORD: server.password,
      });
    } else {
      await fillSqlite(data.databasePath, layout);
      const iso = "strftime('%Y-%m-%dT%H:%M:%fZ', r.ts / 1000.0, 'unixepoch')";
      const select = selectSql(target, iso, "value");
      cli = overCli(
        "sqlite3",
        ["-readonly", "-csv", "-header", data.databasePath, select],
        process.env,
      );
    }
    const fillSeconds = (performance.now() - fillStart) / 1000;
    console.log(`query: ${kind}: ${total} readings stored in ${fillSeconds.toFixed(1)} s`);
    const { child, started } = await startMasterProcess(data.dir, extraFlags);
    master = child;
    const m = await measure(overApi(started.url, data.adminToken, target), cli);
    return {
      rows: m.rows,
      ours: m.rows / m.oursSeconds,
      baseline: m.rows / m.baselineSeconds,
      fillSeconds,
      oursMs: m.oursSeconds * 1000,
      baselineMs: m.baselineSeconds * 1000,
    };
  } finally {
    if (master) await stopMasterProcess(master);
    await server?.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), "outpost-bench-query-"));
try {
  const extra: Record<string, number | string> = {
    readings: total,
    devices: layout.devices,
    tags_per_device: tags,
    days,
    rounds,
    format: "csv",
  };
  let headline: { kind: string; f: StoreFigures } | undefined;
  for (const kind of stores as StoreKind[]) {
    const f = await onStore(kind, dir);
    extra[`${kind}_readings_read`] = f.rows;
    extra[`${kind}_readings_per_s`] = Math.round(f.ours);
    extra[`${kind}_baseline_readings_per_s`] = Math.round(f.baseline);
    extra[`${kind}_ratio`] = Number((f.ours / f.baseline).toFixed(3));
    extra[`${kind}_ms`] = Number(f.oursMs.toFixed(1));
    extra[`${kind}_baseline_ms`] = Number(f.baselineMs.toFixed(1));
    extra[`${kind}_fill_s`] = Number(f.fillSeconds.toFixed(1));
    if (!headline || f.ours / f.baseline < headline.f.ours / headline.f.baseline)
      headline = { kind, f };
  }
  if (!headline) throw new Error("no store measured");
  extra.headline_store = headline.kind;
  report({
    name: "query",
    ours: Math.round(headline.f.ours),
    baseline: Math.round(headline.f.baseline),
    unit: `readings/s, one tag's day of ${total} (${headline.kind}, the lower ratio: GET /v1/readings as CSV vs the same SELECT by its CLI)`,
    better: "higher",
    extra,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
