import { strict as assert } from "node:assert";
import { parse } from "csv-parse/sync";
import {
  CSV_READINGS_HEADER,
  csvField,
  csvReadings,
  csvTime,
} from "../../../master/readings/csv-writer.js";
import { jsonAggregates, jsonReadings } from "../../../master/readings/json-series-writer.js";
import { ndjsonReadings, readingFromNdjson } from "../../../master/readings/ndjson-format.js";
import type { Reading } from "../../../master/readings/reading.js";
import { renderPages } from "../../../master/readings/text-stream.js";

const base = { node: "n1", stream: "telemetry", device: "turbine-1", quality: "good", unit: "rpm" };

/** Readings of every value type, in the store's (node, device, tag, ts, seq) order. */
const READINGS: Reading[] = [
  { ...base, tag: "a-float", ts: 1000, value: 1.5, seq: 1 },
  { ...base, tag: "a-float", ts: 2000, value: Number.NaN, seq: 3 },
  { ...base, tag: "b-int64", ts: 1000, value: -(2n ** 63n), seq: 2 },
  { ...base, tag: "c-uint64", ts: 1000, value: 2n ** 64n - 1n, seq: 4, unit: undefined },
  {
    ...base,
    tag: "d-text",
    ts: 1000,
    value: 'say "hi", then\r\nleave',
    seq: 5,
    quality: "bad_comm",
    status: "BadCommunicationError",
  },
  { ...base, tag: "e-bool", ts: 1000, value: true, seq: 6 },
  { ...base, tag: "f-array", ts: 1000, value: [1n, 2n ** 63n], seq: 7 },
  { ...base, tag: "g-null", ts: 1000, value: null, seq: 8, quality: "bad" },
  {
    ...base,
    device: "turbine-2",
    tag: "a-float",
    ts: 0,
    value: 0,
    seq: 9,
    extra: { serverTs: 12 },
  },
];

/** The rows in pages of two, as a store hands them on. */
async function* pages<T>(items: readonly T[]): AsyncGenerator<T[]> {
  for (let i = 0; i < items.length; i += 2) yield items.slice(i, i + 2);
}

async function text<T>(
  rows: readonly T[],
  format: Parameters<typeof renderPages<T>>[1],
): Promise<string> {
  let out = "";
  for await (const piece of renderPages(pages(rows), format)) out += piece;
  return out;
}

describe("master/readings writers", () => {
  it("JSON: one series per (node, device, tag), 64-bit integers as decimal strings, NaN as text", async () => {
    const seen: number[] = [];
    const doc = JSON.parse(
      await text(
        READINGS,
        jsonReadings(
          async () => ({ gaps: [], losses: [] }),
          (r) => seen.push(r.seq),
        ),
      ),
    );
    assert.equal(doc.series.length, 8);
    assert.deepEqual(
      seen,
      READINGS.map((r) => r.seq),
    );
    assert.deepEqual(doc.series[0], {
      node: "n1",
      device: "turbine-1",
      tag: "a-float",
      stream: "telemetry",
      unit: "rpm",
      points: [
        [1000, 1.5, "good"],
        [2000, "NaN", "good"],
      ],
    });
    assert.deepEqual(doc.series[1].points, [[1000, "-9223372036854775808", "good"]]);
    assert.deepEqual(doc.series[2].points, [[1000, "18446744073709551615", "good"]]);
    assert.equal(doc.series[2].unit, null);
    assert.deepEqual(doc.series[5].points, [[1000, ["1", "9223372036854775808"], "good"]]);
    assert.deepEqual(doc.series[6].points, [[1000, null, "bad"]]);
    assert.equal(doc.series[7].device, "turbine-2");
    assert.deepEqual(doc.gaps, []);
    assert.deepEqual(doc.losses, []);
  });

  it("JSON: an answer without readings is still one document with its tail", async () => {
    assert.deepEqual(
      JSON.parse(
        await text(
          [],
          jsonReadings(async () => ({ gaps: [1], losses: [] })),
        ),
      ),
      {
        series: [],
        gaps: [1],
        losses: [],
      },
    );
  });

  it("JSON aggregates: points are [bucket start, value, count]", async () => {
    const points = [
      { node: "n1", device: "d", tag: "t", ts: 0, value: 2.5, count: 4 },
      { node: "n1", device: "d", tag: "t", ts: 60_000, value: null, count: 0 },
    ];
    const doc = JSON.parse(
      await text(
        points,
        jsonAggregates(async () => ({ gaps: [], losses: [] })),
      ),
    );
    assert.deepEqual(doc.series[0].points, [
      [0, 2.5, 4],
      [60_000, null, 0],
    ]);
  });

  it("CSV: RFC 4180, as many rows as the JSON has points, values exact", async () => {
    const csv = await text(READINGS, csvReadings());
    assert.ok(csv.endsWith("\r\n"));
    const rows = parse(csv, { columns: true }) as Record<string, string>[];
    assert.deepEqual(Object.keys(rows[0] ?? {}), CSV_READINGS_HEADER);
    const doc = JSON.parse(
      await text(
        READINGS,
        jsonReadings(async () => ({})),
      ),
    );
    const points = doc.series.reduce(
      (n: number, s: { points: unknown[] }) => n + s.points.length,
      0,
    );
    assert.equal(rows.length, points);
    assert.deepEqual(
      rows.map((r) => r.value),
      [
        "1.5",
        "NaN",
        "-9223372036854775808",
        "18446744073709551615",
        'say "hi", then\r\nleave',
        "true",
        '["1","9223372036854775808"]',
        "",
        "0",
      ],
    );
    assert.equal(rows[0]?.ts, "1970-01-01T00:00:01.000Z");
    assert.equal(rows[3]?.unit, "");
    assert.equal(rows[4]?.quality, "bad_comm");
  });

  it("CSV fields are quoted only when they must be; times beyond a Date stay numbers", () => {
    assert.equal(csvField("plain"), "plain");
    assert.equal(csvField("a,b"), '"a,b"');
    assert.equal(csvField('q"q'), '"q""q"');
    assert.equal(csvField("line\nbreak"), '"line\nbreak"');
    assert.equal(csvTime(9e15), "9000000000000000");
  });

  it("CSV times are what Date.toISOString writes, across days, before 1970 and past year 9999", () => {
    const day = 86_400_000;
    const times = [
      0,
      -0,
      1,
      -1,
      day - 1,
      day,
      -day,
      -day - 1,
      1_700_000_000_123,
      1_700_000_000_124,
      1_700_086_399_999,
      253_402_300_799_999,
      253_402_300_800_000,
      -62_198_755_200_001,
      8.64e15,
      -8.64e15,
      1.5,
      -1.5,
    ];
    for (const ms of times) assert.equal(csvTime(ms), new Date(ms).toISOString(), String(ms));
  });

  it("NDJSON: every field and the value's type, read back exactly", async () => {
    const lines = (await text(READINGS, ndjsonReadings())).split("\n");
    assert.equal(lines.pop(), "");
    assert.equal(lines.length, READINGS.length);
    assert.deepEqual(JSON.parse(lines[3] as string), {
      ts: 1000,
      node: "n1",
      stream: "telemetry",
      device: "turbine-1",
      tag: "c-uint64",
      type: "uint64",
      value: "18446744073709551615",
      quality: "good",
      seq: 4,
    });
    const back = lines.map(readingFromNdjson);
    const strip = (r: Reading) =>
      Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
    assert.deepEqual(back.map(strip), READINGS.map(strip));
  });
});
