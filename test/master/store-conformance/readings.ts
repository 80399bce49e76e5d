import { strict as assert } from "node:assert";
import type { TelemetryRecord } from "../../../collector/record.js";
import type { Reading } from "../../../master/readings/reading.js";
import {
  recordChunk as chunkOf,
  collect,
  collectPages,
  EXTENDED_SCHEMA,
  fingerprintOf,
  RECORD_SCHEMA_FINGERPRINT,
  RECORD_SCHEMA_TEXT,
  schemaType,
} from "../../helpers/record-chunks.js";
import type { StoreCase } from "./case.js";

const NOW = Date.UTC(2025, 5, 1, 12);
const ALL = { from: 0, to: 2 ** 52, anyQuality: true };

/** A chunk received at NOW, so only the time stamps a case chooses are late. */
const recordChunk = (...[node, id, records, options]: Parameters<typeof chunkOf>) =>
  chunkOf(node, id, records, { receivedAt: NOW, ...options });

function rec(
  tag: string,
  ts: number,
  value: TelemetryRecord["value"],
  extra = {},
): TelemetryRecord {
  return { device: "turbine-1", tag, ts, value, quality: "good", ...extra };
}

/** The fields a test compares: what the store gave back for each reading. */
function brief(r: Reading) {
  return [r.node, r.device, r.tag, r.ts, r.value, r.quality, r.seq] as const;
}

export function readingsCases(c: StoreCase): void {
  describe("readings", () => {
    it("decodes every value kind of the collector's schema, 64-bit integers exact", async () => {
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW);
      const records = [
        rec("a-double", NOW, 1.25, { unit: "rpm" }),
        rec("b-int64", NOW, 2n ** 62n + 1n),
        rec("c-int64-min", NOW, -(2n ** 63n)),
        rec("d-uint64", NOW, 2n ** 64n - 1n),
        rec("e-uint64", NOW, 2n ** 63n + 5n),
        rec("f-bool", NOW, true),
        rec("g-string", NOW, "ok ✓"),
        { ...rec("h-null", NOW, null), quality: "comm_error" },
        rec("i-inf", NOW, Number.NEGATIVE_INFINITY),
      ];
      const [result] = await c.store.ingestChunks([
        recordChunk("gw-1", 1, records, { firstSeq: 11, receivedAt: NOW }),
      ]);
      assert.deepEqual(result, { duplicate: false });
      const got = await collectPages(c.store.readingPages({ ...ALL }));
      assert.deepEqual(
        got.map((r) => [r.tag, r.value, r.quality, r.seq, r.unit, r.stream]),
        [
          ["a-double", 1.25, "good", 11, "rpm", "telemetry"],
          ["b-int64", 2n ** 62n + 1n, "good", 12, undefined, "telemetry"],
          ["c-int64-min", -(2n ** 63n), "good", 13, undefined, "telemetry"],
          ["d-uint64", 2n ** 64n - 1n, "good", 14, undefined, "telemetry"],
          ["e-uint64", 2n ** 63n + 5n, "good", 15, undefined, "telemetry"],
          ["f-bool", true, "good", 16, undefined, "telemetry"],
          ["g-string", "ok ✓", "good", 17, undefined, "telemetry"],
          ["h-null", null, "comm_error", 18, undefined, "telemetry"],
          ["i-inf", Number.NEGATIVE_INFINITY, "good", 19, undefined, "telemetry"],
        ],
      );
      assert.equal(typeof got[1]?.value, "bigint");
    });

    it("takes an extended schema: status names, arrays, and fields it has no column for", async () => {
      const type = schemaType(EXTENDED_SCHEMA);
      const fp = fingerprintOf(EXTENDED_SCHEMA);
      await c.store.addSchema(fp, JSON.stringify(EXTENDED_SCHEMA), NOW);
      const base = {
        device: "plc",
        ts: BigInt(NOW),
        quality: "good",
        status: null,
        unit: null,
        serverTs: null,
        outageFrom: null,
        outageTo: null,
      };
      const ns = "outpost.collector.";
      const payloads = [
        { ...base, tag: "a", value: { [`${ns}DoubleArray`]: { items: [0.5, -1, 1e300] } } },
        { ...base, tag: "b", value: { [`${ns}LongArray`]: { items: [2n ** 63n - 1n, -3n] } } },
        { ...base, tag: "c", value: { [`${ns}BooleanArray`]: { items: [true, false, true] } } },
        {
          ...base,
          tag: "d",
          value: { double: 7.5 },
          quality: "uncertain",
          status: { string: "UncertainLastUsableValue" },
        },
        {
          ...base,
          tag: "e",
          value: { long: 3n },
          outageFrom: { long: BigInt(NOW - 60_000) },
          outageTo: { long: 2n ** 60n },
        },
      ].map((r) => type.toBuffer(r));
      await c.store.ingestChunks([recordChunk("gw-1", 1, payloads, { schema: fp, firstSeq: 1 })]);
      const got = await collectPages(c.store.readingPages({ ...ALL }));
      assert.deepEqual(
        got.map((r) => [r.tag, r.value, r.quality, r.status, r.extra]),
        [
          ["a", [0.5, -1, 1e300], "good", undefined, undefined],
          ["b", [2n ** 63n - 1n, -3n], "good", undefined, undefined],
          ["c", [true, false, true], "good", undefined, undefined],
          ["d", 7.5, "uncertain", "UncertainLastUsableValue", undefined],
          [
            "e",
            3n,
            "good",
            undefined,
            { outageFrom: NOW - 60_000, outageTo: "1152921504606846976" },
          ],
        ],
      );
    });

    it("keeps a chunk of an unknown schema raw, decodes it exactly once when the schema arrives", async () => {
      const chunk = recordChunk("gw-1", 7, [rec("rpm", NOW, 1), rec("rpm", NOW + 1, 2)]);
      assert.deepEqual(await c.store.ingestChunks([chunk]), [{ duplicate: false }]);
      assert.deepEqual(await collectPages(c.store.readingPages({ ...ALL })), []);
      assert.deepEqual(await c.store.readingCounts(), [
        { node: "gw-1", late: 0, clockSuspect: 0, expired: 0, awaitingSchema: 1, decodeFailed: 0 },
      ]);
      assert.deepEqual(await c.store.ingestChunks([chunk]), [{ duplicate: true }]);
      assert.deepEqual(
        await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW),
        { duplicate: false, decodedChunks: 1 },
      );
      assert.deepEqual(
        await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW),
        { duplicate: true, decodedChunks: 0 },
      );
      assert.deepEqual(await c.store.ingestChunks([chunk]), [{ duplicate: true }]);
      const got = await collectPages(c.store.readingPages({ ...ALL }));
      assert.deepEqual(got.map(brief), [
        ["gw-1", "turbine-1", "rpm", NOW, 1, "good", 7001],
        ["gw-1", "turbine-1", "rpm", NOW + 1, 2, "good", 7002],
      ]);
      assert.deepEqual(await c.store.readingCounts(), []);
      const [stored] = await c.store.queryChunks({ withBody: true });
      assert.equal(stored?.body.length, 0, "a decoded chunk's body is dropped");
    });

    it("adds no reading for a resent chunk, however late the resend", async () => {
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW);
      const chunk = recordChunk("gw-1", 3, [rec("rpm", NOW, 1)]);
      await c.store.ingestChunks([chunk, chunk]);
      await c.reopen();
      assert.deepEqual(await c.store.ingestChunks([{ ...chunk, receivedAt: NOW + 86_400_000 }]), [
        { duplicate: true },
      ]);
      assert.equal((await collectPages(c.store.readingPages({ ...ALL }))).length, 1);
    });

    it("keeps a chunk that does not decode raw, counted per node, with node, chunk and why", async () => {
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW);
      const good = recordChunk("gw-1", 1, [rec("rpm", NOW, 1)]);
      const flipped = recordChunk("gw-2", 2, [rec("rpm", NOW, 1), rec("rpm", NOW, 2)]);
      const body = Buffer.from(flipped.body);
      body[30] = (body[30] as number) ^ 0xff;
      const garbage = recordChunk("gw-2", 3, [Buffer.from([0x02, 0x41])]);
      const miscounted = {
        ...recordChunk("gw-2", 4, [rec("rpm", NOW, 1)]),
        records: 2,
        lastSeq: 4002,
      };
      const results = await c.store.ingestChunks([good, { ...flipped, body }, garbage, miscounted]);
      assert.deepEqual(
        results.map((r) => r.duplicate),
        [false, false, false, false],
      );
      assert.equal(
        (await collectPages(c.store.readingPages({ ...ALL }))).length,
        1,
        "only the good chunk",
      );
      const failures = await c.store.decodeFailures();
      assert.deepEqual(failures.map((f) => [f.node, f.chunkId]).sort(), [
        ["gw-2", 2],
        ["gw-2", 3],
        ["gw-2", 4],
      ]);
      const why = Object.fromEntries(failures.map((f) => [f.chunkId, f.error]));
      assert.match(why[2] ?? "", /body damaged at byte/);
      assert.match(why[3] ?? "", /record 3001: /);
      assert.match(why[4] ?? "", /body holds 1 records, the chunk says 2/);
      assert.equal(failures[0]?.schema, RECORD_SCHEMA_FINGERPRINT.toString("hex"));
      assert.deepEqual(await c.store.readingCounts(), [
        { node: "gw-2", late: 0, clockSuspect: 0, expired: 0, awaitingSchema: 0, decodeFailed: 3 },
      ]);
      const raw = await c.store.queryChunks({ node: "gw-2", withBody: true });
      assert.deepEqual(Buffer.from(raw[0]?.body ?? []), body, "kept raw, byte for byte");
      assert.deepEqual(await c.store.ingestChunks([{ ...flipped, body }]), [{ duplicate: true }]);
    });

    it("stores readings days late, stamped 1970 or far ahead, and counts them", async () => {
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW);
      const records = [
        rec("rpm", NOW - 3 * 86_400_000, 1),
        rec("rpm", 0, 2),
        rec("rpm", 5_000, 3),
        rec("rpm", NOW + 30 * 86_400_000, 4),
        rec("rpm", -1_000, 5),
        rec("rpm", NOW - 1_000, 6),
      ];
      assert.deepEqual(
        await c.store.ingestChunks([recordChunk("gw-1", 1, records, { receivedAt: NOW })]),
        [{ duplicate: false }],
      );
      const got = await collectPages(c.store.readingPages({ from: -(2 ** 52), to: 2 ** 52 }));
      assert.deepEqual(
        got.map((r) => [r.ts, r.value]),
        [
          [-1_000, 5],
          [0, 2],
          [5_000, 3],
          [NOW - 3 * 86_400_000, 1],
          [NOW - 1_000, 6],
          [NOW + 30 * 86_400_000, 4],
        ],
      );
      assert.deepEqual(await c.store.readingCounts(), [
        { node: "gw-1", late: 1, clockSuspect: 4, expired: 0, awaitingSchema: 0, decodeFailed: 0 },
      ]);
    });

    it("refuses a hostile schema with a typed error and stores nothing", async () => {
      const deep = { type: "record", name: "R", fields: [] as object[] };
      let at: { fields: object[] } = deep;
      for (let i = 0; i < 40; i++) {
        const inner = { type: "record", name: `R${i}`, fields: [] as object[] };
        at.fields.push({ name: "f", type: inner });
        at = inner;
      }
      const huge = JSON.stringify({
        type: "enum",
        name: "E",
        symbols: Array.from({ length: 9000 }, (_, i) => `S${i}`),
      });
      const cases: [Uint8Array, string, string][] = [
        [Buffer.alloc(32), huge, "too_large"],
        [Buffer.alloc(32), JSON.stringify(deep), "too_deep"],
        [Buffer.alloc(32), RECORD_SCHEMA_TEXT, "fingerprint"],
        [Buffer.alloc(32), '{"type":"nonsense"}', "invalid"],
        [Buffer.alloc(32), "{not json", "invalid"],
      ];
      for (const [fp, text, reason] of cases)
        await assert.rejects(c.store.addSchema(fp, text, NOW), {
          code: "E_MASTER_SCHEMA",
          reason,
        });
      const chunk = recordChunk("gw-1", 1, [rec("rpm", NOW, 1)], { schema: Buffer.alloc(32) });
      await c.store.ingestChunks([chunk]);
      assert.equal((await c.store.readingCounts())[0]?.awaitingSchema, 1);
    });

    it("filters by node, device, tags, time and quality, in (node, device, tag, ts, seq) order", async () => {
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW);
      const other = { device: "turbine-2" };
      await c.store.ingestChunks([
        recordChunk("gw-2", 1, [rec("rpm", NOW + 5, 1), rec("temp", NOW, 20)]),
        recordChunk("gw-1", 1, [
          rec("rpm", NOW + 2, 3),
          rec("rpm", NOW + 1, 2),
          { ...rec("rpm", NOW + 3, 4), quality: "uncertain" },
          rec("temp", NOW, 21, other),
        ]),
        recordChunk("gw-1", 2, [rec("rpm", NOW + 1, 5)], { firstSeq: 1 }),
      ]);
      const tags = async (q: object) =>
        (await collectPages(c.store.readingPages({ from: NOW, to: NOW + 10, ...q }))).map(
          (r) => `${r.node}/${r.device}/${r.tag}@${r.ts - NOW}#${r.seq}=${r.value}`,
        );
      assert.deepEqual(await tags({ anyQuality: true }), [
        "gw-1/turbine-1/rpm@1#1=5",
        "gw-1/turbine-1/rpm@1#1002=2",
        "gw-1/turbine-1/rpm@2#1001=3",
        "gw-1/turbine-1/rpm@3#1003=4",
        "gw-1/turbine-2/temp@0#1004=21",
        "gw-2/turbine-1/rpm@5#1001=1",
        "gw-2/turbine-1/temp@0#1002=20",
      ]);
      assert.deepEqual(await tags({ node: "gw-1", device: "turbine-1", from: NOW + 2 }), [
        "gw-1/turbine-1/rpm@2#1001=3",
      ]);
      assert.deepEqual(await tags({ tags: ["temp"], to: NOW + 1 }), [
        "gw-1/turbine-2/temp@0#1004=21",
        "gw-2/turbine-1/temp@0#1002=20",
      ]);
      assert.deepEqual(await c.store.readingSeries({ node: "gw-1" }), [
        { node: "gw-1", device: "turbine-1", tag: "rpm" },
        { node: "gw-1", device: "turbine-2", tag: "temp" },
      ]);
    });

    it("streams a long range in order, every reading once", async () => {
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW);
      const chunks = Array.from({ length: 5 }, (_, k) =>
        recordChunk(
          "gw-1",
          k,
          Array.from({ length: 700 }, (_, i) => rec("rpm", NOW + k * 700 + i, i)),
        ),
      );
      // Chunks arrive out of time order: the answer is in time order still.
      await c.store.ingestChunks([...chunks].reverse());
      let previous = -1;
      let n = 0;
      for await (const page of c.store.readingPages({ from: NOW, to: NOW + 3500 })) {
        assert.ok(page.length > 0);
        for (const r of page) {
          assert.ok(r.ts > previous);
          previous = r.ts;
          n++;
        }
      }
      assert.equal(n, 3500);
    });

    it("aggregates good numeric readings per bucket as the raw rows give them", async () => {
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW);
      const start = Math.floor(NOW / 60_000) * 60_000;
      const values: TelemetryRecord[] = [];
      for (let i = 0; i < 300; i++) {
        const value = i % 7 === 0 ? BigInt(i * 3) : ((i * 37) % 101) / 4;
        values.push({
          ...rec("rpm", start + i * 1_000, value),
          quality: i % 11 === 0 ? "uncertain" : "good",
        });
      }
      values.push(rec("rpm", start + 5_000, "text"), rec("rpm", start + 6_000, 2n ** 64n - 1n));
      await c.store.ingestChunks([recordChunk("gw-1", 1, values)]);
      const raw = await collectPages(c.store.readingPages({ from: start, to: start + 300_000 }));
      for (const agg of ["avg", "min", "max", "last", "count"] as const) {
        const points = await collect(
          c.store.aggregateReadings({ from: start, to: start + 300_000, stepMs: 60_000, agg }),
        );
        const expected = [0, 1, 2, 3, 4].map((b) => {
          const inBucket = raw.filter(
            (r) =>
              r.ts >= start + b * 60_000 &&
              r.ts < start + (b + 1) * 60_000 &&
              typeof r.value !== "string",
          );
          const nums = inBucket.map((r) => Number(r.value));
          const value = {
            avg: nums.reduce((a, x) => a + x, 0) / nums.length,
            min: Math.min(...nums),
            max: Math.max(...nums),
            last: nums.at(-1),
            count: nums.length,
          }[agg];
          return { ts: start + b * 60_000, count: nums.length, value };
        });
        assert.deepEqual(
          points.map((p) => ({ ts: p.ts, count: p.count, value: p.value })),
          expected.map((e) => ({
            ...e,
            value: agg === "avg" ? points.find((p) => p.ts === e.ts)?.value : e.value,
          })),
          agg,
        );
        if (agg === "avg")
          for (const [i, p] of points.entries())
            assert.ok(
              Math.abs((p.value ?? 0) - (expected[i]?.value ?? 0)) < 1e-6,
              `avg bucket ${i}`,
            );
      }
      const any = await collect(
        c.store.aggregateReadings({
          from: start,
          to: start + 60_000,
          stepMs: 60_000,
          agg: "count",
          anyQuality: true,
        }),
      );
      assert.equal(
        any[0]?.count,
        61,
        "60 numeric readings in the first minute, quality=any, plus the uint64",
      );
    });

    it("keeps readings across a reopen, and decodes after it what awaited a schema", async () => {
      await c.store.ingestChunks([recordChunk("gw-1", 1, [rec("rpm", NOW, 1)])]);
      await c.reopen();
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW);
      await c.store.ingestChunks([
        recordChunk("gw-1", 2, [rec("rpm", NOW + 1, 2)], { compression: "deflate" }),
      ]);
      await c.reopen();
      assert.deepEqual(
        (await collectPages(c.store.readingPages({ ...ALL }))).map((r) => r.value),
        [1, 2],
      );
    });
  });
}
