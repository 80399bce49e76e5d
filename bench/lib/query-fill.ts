import Database from "better-sqlite3";
import { connect } from "../../master/postgres/connection.js";
import { migrate } from "../../master/postgres/migrations.js";
import { Partitions } from "../../master/postgres/partitions.js";
import { VALUE_KIND } from "../../master/readings/value-kind.js";
import { SqliteStore } from "../../master/sqlite/sqlite-store.js";

export const DAY_MS = 86_400_000;
/** Readings of one tag in one day at 1 Hz. */
export const PER_DAY = 86_400;

/**
 * What a store holds: `devices` devices (one node each) polling `tags` tags at 1 Hz over
 * `days` whole UTC days from `day0`, as a collector stamps them: a node's sequence
 * counts its records across all its tags, a chunk holds 1,000 of them.
 */
export interface Layout {
  devices: number;
  tags: number;
  days: number;
  day0: number;
}

export interface SeriesName {
  node: string;
  device: string;
  tag: string;
}

export function seriesName(device: number, tag: number): SeriesName {
  return { node: `node-${device}`, device: `turbine-${device}`, tag: `tag-${tag}` };
}

export function readingsOf(layout: Layout): number {
  return layout.devices * layout.tags * layout.days * PER_DAY;
}

/** The series and day the bench reads: in the middle of everything, one of many. */
export function queried(layout: Layout): SeriesName & { from: number; to: number } {
  const from = layout.day0 + Math.floor(layout.days / 2) * DAY_MS;
  return {
    ...seriesName(Math.floor(layout.devices / 2), Math.floor(layout.tags / 2)),
    from,
    to: from + DAY_MS,
  };
}

/** Every series in id order with its device and tag index (ids are 1, 2, … in both stores). */
function* everySeries(layout: Layout): Generator<{ device: number; tag: number }> {
  for (let device = 0; device < layout.devices; device++)
    for (let tag = 0; tag < layout.tags; tag++) yield { device, tag };
}

/**
 * The SQLite store made by the store itself (its migrations, pragmas), then filled by
 * SQL: each series' readings of all days by one INSERT … SELECT from a recursive CTE, in
 * primary-key order (appends to the table's b-tree), one transaction per series.
 */
export async function fillSqlite(path: string, layout: Layout): Promise<void> {
  await (await SqliteStore.open(path)).close();
  const db = new Database(path);
  try {
    // Only for the fill: a crash would just mean filling again.
    db.pragma("synchronous = OFF");
    const addSeries = db.prepare("INSERT INTO series (node, device, tag) VALUES (?, ?, ?)");
    const fill = db.prepare(`INSERT INTO readings
        (series, ts, seq, chunk_id, stream, kind, value, quality, status, unit, extra)
      WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n + 1 < @count)
      SELECT @series, @t0 + n * 1000, n * @tags + @tag + 1, (n * @tags + @tag) / 1000 + 1,
        'telemetry', ${VALUE_KIND.float64}, @tag + (n % ${PER_DAY}) * 0.001, 'good', NULL, 'kW', NULL
      FROM i`);
    const one = db.transaction((device: number, tag: number) => {
      const { node, device: name, tag: tagName } = seriesName(device, tag);
      const series = addSeries.run(node, name, tagName).lastInsertRowid;
      fill.run({
        series,
        t0: layout.day0,
        tags: layout.tags,
        tag,
        count: layout.days * PER_DAY,
      });
    });
    for (const { device, tag } of everySeries(layout)) one(device, tag);
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

/**
 * The PostgreSQL store made by the store itself (its migrations; the days' partitions by
 * its partition maker, as ingest makes them), then filled by SQL: each series' readings
 * of all days by one INSERT … SELECT generate_series, in primary-key order; then ANALYZE
 * and VACUUM, as autovacuum would do to a table this size before anyone queries it.
 * Connects as the store does: `url` names no password (PGPASSFILE / PGPASSWORD).
 */
export async function fillPostgres(url: string, layout: Layout): Promise<void> {
  const { sql } = connect(url);
  try {
    await migrate(sql);
    const days = Array.from({ length: layout.days }, (_, d) => layout.day0 + d * DAY_MS);
    await sql.begin((tx) => new Partitions().ensure(tx, days, layout.day0 + layout.days * DAY_MS));
    for (const { device, tag } of everySeries(layout)) {
      const s = seriesName(device, tag);
      const [row] = await sql`INSERT INTO series (node, device, tag)
        VALUES (${s.node}, ${s.device}, ${s.tag}) RETURNING id`;
      await sql`INSERT INTO readings
          (series, ts, seq, chunk_id, stream, kind, v_double, quality, unit)
        SELECT ${row?.id as number}, ${layout.day0}::int8 + n * 1000,
          n * ${layout.tags}::int8 + ${tag + 1}, (n * ${layout.tags}::int8 + ${tag}) / 1000 + 1,
          'telemetry', ${VALUE_KIND.float64}, ${tag} + (n % ${PER_DAY}) * 0.001, 'good', 'kW'
        FROM generate_series(0::int8, ${layout.days * PER_DAY - 1}::int8) n`;
    }
    await sql`VACUUM (ANALYZE) readings`;
    await sql`ANALYZE series`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
