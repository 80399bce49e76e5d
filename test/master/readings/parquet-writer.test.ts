import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { PARQUET_COLUMNS } from "../../../master/readings/parquet-batch.js";
import { ROW_GROUP_ROWS, writeParquet } from "../../../master/readings/parquet-writer.js";
import type { Reading } from "../../../master/readings/reading.js";

const base = { node: "n1", stream: "telemetry", device: "d", quality: "good" };

const READINGS: Reading[] = [
  { ...base, tag: "double", ts: 0, value: -1.5, seq: 1, unit: "rpm" },
  { ...base, tag: "nan", ts: 1, value: Number.NaN, seq: 2 },
  { ...base, tag: "int64-min", ts: 2, value: -(2n ** 63n), seq: 3 },
  { ...base, tag: "int64-max", ts: 3, value: 2n ** 63n - 1n, seq: 4 },
  { ...base, tag: "uint64-max", ts: 4, value: 2n ** 64n - 1n, seq: 5 },
  { ...base, tag: "bool", ts: 5, value: false, seq: 6 },
  { ...base, tag: "string", ts: 6, value: 'a "quoted", ✓', seq: 7 },
  { ...base, tag: "array", ts: 7, value: [1n, 2n ** 64n - 1n], seq: 8 },
  {
    ...base,
    tag: "null",
    ts: 8,
    value: null,
    seq: 9,
    quality: "comm_error",
    status: "BadCommunicationError",
    extra: { serverTs: 7, outageFrom: "9007199254740993" },
  },
];

async function* each<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}

describe("master/readings/parquet-writer", function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), "outpost-parquet-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function written(
    readings: AsyncIterable<Reading>,
  ): Promise<{ file: ArrayBuffer; count: number }> {
    const path = join(dir, "out.parquet");
    const handle = await open(path, "w");
    const count = await writeParquet(readings, handle);
    await handle.close();
    const buf = readFileSync(path);
    return { file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), count };
  }

  it("writes every value type into its own column, read back exactly by hyparquet", async () => {
    const { file, count } = await written(each(READINGS));
    assert.equal(count, READINGS.length);
    const meta = parquetMetadata(file);
    assert.deepEqual(
      meta.schema.slice(1).map((c) => c.name),
      [...PARQUET_COLUMNS],
    );
    const rows = (await parquetReadObjects({ file })) as Record<string, unknown>[];
    const pick = (i: number, ...columns: string[]) => columns.map((c) => rows[i]?.[c]);
    assert.deepEqual(pick(0, "value_type", "value_double", "value_int64", "unit"), [
      "double",
      -1.5,
      null,
      "rpm",
    ]);
    assert.ok(Number.isNaN(rows[1]?.value_double));
    assert.deepEqual(pick(2, "value_type", "value_int64"), ["int64", -(2n ** 63n)]);
    assert.deepEqual(pick(3, "value_int64", "value_uint64"), [2n ** 63n - 1n, null]);
    assert.deepEqual(pick(4, "value_type", "value_int64", "value_uint64"), [
      "uint64",
      null,
      2n ** 64n - 1n,
    ]);
    assert.deepEqual(pick(5, "value_type", "value_bool", "value_double"), ["bool", false, null]);
    assert.deepEqual(pick(6, "value_string"), ['a "quoted", ✓']);
    assert.deepEqual(pick(7, "value_type", "value_array"), [
      "uint64[]",
      '["1","18446744073709551615"]',
    ]);
    assert.deepEqual(pick(8, "value_type", "quality", "status", "value_double", "value_string"), [
      "null",
      "comm_error",
      "BadCommunicationError",
      null,
      null,
    ]);
    assert.deepEqual(JSON.parse(rows[8]?.extra as string), {
      serverTs: 7,
      outageFrom: "9007199254740993",
    });
    rows.forEach((row, i) => {
      const r = READINGS[i] as Reading;
      assert.deepEqual(
        [(row.ts as Date).getTime(), row.node, row.stream, row.device, row.tag, row.seq],
        [r.ts, r.node, r.stream, r.device, r.tag, BigInt(r.seq)],
      );
    });
  });

  it("cuts the stream into row groups of ROW_GROUP_ROWS, pulling every reading once", async () => {
    const n = ROW_GROUP_ROWS * 2 + 10;
    let pulled = 0;
    async function* many(): AsyncGenerator<Reading> {
      for (let i = 0; i < n; i++) {
        pulled++;
        yield { ...base, tag: `t${i % 7}`, ts: i, value: i % 2 ? BigInt(i) : i / 2, seq: i + 1 };
      }
    }
    const { file, count } = await written(many());
    assert.equal(count, n);
    assert.equal(pulled, n);
    const meta = parquetMetadata(file);
    assert.equal(Number(meta.num_rows), n);
    assert.deepEqual(
      meta.row_groups.map((g) => Number(g.num_rows)),
      [ROW_GROUP_ROWS, ROW_GROUP_ROWS, 10],
    );
    const last = (await parquetReadObjects({ file, rowStart: n - 2, rowEnd: n })) as Record<
      string,
      unknown
    >[];
    assert.deepEqual(
      last.map((r) => [r.value_double, r.value_int64]),
      [
        [(n - 2) / 2, null],
        [null, BigInt(n - 1)],
      ],
    );
  });

  it("an empty export is a valid file with no rows", async () => {
    const { file, count } = await written(each([]));
    assert.equal(count, 0);
    assert.equal(Number(parquetMetadata(file).num_rows), 0);
  });
});
