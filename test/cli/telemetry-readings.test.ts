import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import type { ReadingsAnswer } from "../../master/index.js";
import { runOutpostAsync } from "../helpers/run-outpost.js";
import { MasterHarness } from "../master/master-harness.js";
import { type SeededReading, seedReadings } from "../master/readings/readings-fixture.js";

const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 600_000;
const WINDOW = ["--from", new Date(T0).toISOString(), "--to", String(T0 + 120_000)];

describe("outpost telemetry readings / export against a real master", function () {
  this.timeout(60_000);
  const h = new MasterHarness();
  let seeded: SeededReading[];
  let env: NodeJS.ProcessEnv;

  before(async () => {
    await h.start();
    seeded = await seedReadings(h.master.store, T0);
    env = { OUTPOST_MASTER: h.master.url, OUTPOST_TOKEN: undefined };
  });
  after(() => h.close());

  const outpost = (...args: string[]) =>
    runOutpostAsync([...args, "--token-file", join(h.dir, "admin.token")], { env });
  const stored = (quality = "good") =>
    seeded.filter((s) => s.stored && (quality === "any" || s.record.quality === "good"));

  it("--json prints the API's JSON document: every stored reading once", async () => {
    const r = await outpost("telemetry", "readings", ...WINDOW, "--json");
    assert.equal(r.status, 0, r.stderr);
    const answer = JSON.parse(r.stdout) as ReadingsAnswer;
    assert.deepEqual(answer, await h.client.readings({ from: T0, to: T0 + 120_000 }));
    assert.equal(
      answer.series.reduce((n, s) => n + s.points.length, 0),
      stored().length,
    );
  });

  it("--csv prints one row per reading, as many as the JSON has points", async () => {
    const r = await outpost("telemetry", "readings", ...WINDOW, "--csv", "--quality", "any");
    assert.equal(r.status, 0, r.stderr);
    const rows = parse(r.stdout, { columns: true }) as Record<string, string>[];
    assert.equal(rows.length, stored("any").length);
    assert.equal(rows.find((x) => x.tag === "counter")?.value, String(2n ** 64n - 1n));
  });

  it("prints a table with the gaps and losses, aggregated with --step", async () => {
    const r = await outpost(
      "telemetry",
      "readings",
      ...WINDOW,
      "--device",
      "turbine-1",
      "--tag",
      "sample",
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^TIME\s+NODE\s+DEVICE\s+TAG\s+VALUE\s+UNIT\s+QUALITY$/);
    const rows = lines.filter((l) => /^\d{4}-/.test(l));
    assert.equal(rows.length, stored().filter((s) => s.record.tag === "sample").length);
    assert.ok(
      lines.some((l) => /^gap: n1 telemetry 101-150 \(50 records, .*\) reported lost$/.test(l)),
      r.stdout,
    );
    assert.ok(
      lines.some((l) => /^gap: n1 telemetry 201-250 \(50 records, [^)]*\)$/.test(l)),
      r.stdout,
    );
    assert.ok(
      lines.some((l) => /^lost: n1 telemetry 101-150 \(50 records, overflow/.test(l)),
      r.stdout,
    );

    const agg = await outpost(
      "telemetry",
      "readings",
      ...WINDOW,
      "--device",
      "turbine-1",
      "--tag",
      "sample",
      "--step",
      "10s",
      "--agg",
      "count",
    );
    assert.equal(agg.status, 0, agg.stderr);
    assert.match(agg.stdout, /^TIME\s+NODE\s+DEVICE\s+TAG\s+VALUE\s+UNIT\s+COUNT$/m);
    assert.equal(agg.stdout.split("\n").filter((l) => /^\d{4}-.* 10 +10$/.test(l)).length, 4);
  });

  it("refuses bad flags naming them, exit status 2", async () => {
    for (const [args, named] of [
      [["--from", "yesterday"], /--from/],
      [["--csv", "--json"], /--csv and --json/],
      [["--agg", "max"], /--agg: needs --step/],
      [["--from", "1000", "--to", "1000"], /--from: must be before --to/],
    ] as const) {
      const r = await outpost("telemetry", "readings", ...args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, named);
    }
    const bad = await outpost("telemetry", "readings", ...WINDOW, "--step", "fast");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /step: duration 'fast'/);
  });

  it("exports Parquet that an independent reader reads back exactly, 64-bit values included", async () => {
    const out = join(h.dir, "window.parquet");
    const r = await outpost(
      "telemetry",
      "export",
      ...WINDOW,
      "--quality",
      "any",
      "--format",
      "parquet",
      "--out",
      out,
      "--json",
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).readings, stored("any").length);
    assert.ok(!existsSync(`${out}.partial`));
    const buf = readFileSync(out);
    const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const meta = parquetMetadata(file);
    assert.equal(Number(meta.num_rows), stored("any").length);
    const columns = Object.fromEntries(meta.schema.slice(1).map((c) => [c.name, c]));
    assert.equal(columns.value_int64?.type, "INT64");
    assert.equal(columns.value_uint64?.type, "INT64");
    assert.equal(columns.value_uint64?.converted_type, "UINT_64");
    const rows = (await parquetReadObjects({ file })) as Record<string, unknown>[];
    // The store's order: series by (node, device, tag), then time.
    const expected = stored("any").sort(
      (a, b) =>
        a.record.device.localeCompare(b.record.device) ||
        a.record.tag.localeCompare(b.record.tag) ||
        a.record.ts - b.record.ts,
    );
    assert.equal(rows.length, expected.length);
    rows.forEach((row, i) => {
      const { record, seq } = expected[i] as SeededReading;
      const v = record.value;
      assert.equal((row.ts as Date).getTime(), record.ts);
      assert.deepEqual(
        [row.node, row.stream, row.device, row.tag, row.quality, row.seq, row.unit],
        [
          "n1",
          "telemetry",
          record.device,
          record.tag,
          record.quality,
          BigInt(seq),
          record.unit ?? null,
        ],
      );
      if (typeof v === "bigint") {
        assert.equal(
          v > 2n ** 63n - 1n ? row.value_uint64 : row.value_int64,
          v,
          `${record.tag} exact`,
        );
        assert.equal(row.value_double, null);
      } else {
        assert.equal(row.value_double, v);
        assert.equal(row.value_int64, null);
      }
    });
  });

  it("exports CSV and NDJSON as the API streams them", async () => {
    const csv = join(h.dir, "window.csv");
    const ndjson = join(h.dir, "window.ndjson");
    for (const [format, out] of [
      ["csv", csv],
      ["ndjson", ndjson],
    ]) {
      const r = await outpost(
        "telemetry",
        "export",
        ...WINDOW,
        "--format",
        format as string,
        "--out",
        out as string,
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(`^exported ${stored().length} readings \\(.*\\) to ${out}\\n$`),
      );
    }
    assert.equal(
      (parse(readFileSync(csv), { columns: true }) as unknown[]).length,
      stored().length,
    );
    const lines = readFileSync(ndjson, "utf8").trimEnd().split("\n");
    assert.equal(lines.length, stored().length);
    assert.equal(JSON.parse(lines[0] as string).type, "uint64");
  });

  it("export needs --from, --format and --out", async () => {
    const r = await outpost(
      "telemetry",
      "export",
      "--format",
      "csv",
      "--out",
      join(h.dir, "x.csv"),
    );
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--from: required/);
    const f = await outpost("telemetry", "export", ...WINDOW, "--out", join(h.dir, "x.csv"));
    assert.equal(f.status, 2);
    assert.match(f.stderr, /--format/);
  });
});
