import { strict as assert } from "node:assert";
import type { TelemetryRecord } from "../../../collector/record.js";
import { parseRetention } from "../../../master/index.js";
import type { AggregatePoint, AggregateQuery, Reading } from "../../../master/readings/reading.js";
import {
  collect,
  collectPages,
  RECORD_SCHEMA_FINGERPRINT,
  RECORD_SCHEMA_TEXT,
  recordChunk,
} from "../../helpers/record-chunks.js";
import type { StoreCase } from "./case.js";

const DAY = 86_400_000;
const MINUTE = 60_000;
/** A minute boundary, so the cases choose which minutes a window cuts. */
const NOW = Date.UTC(2025, 5, 1, 12);
const AGGS = ["avg", "min", "max", "last", "count"] as const;

function rec(tag: string, ts: number, value: TelemetryRecord["value"], extra = {}) {
  return { device: "turbine-1", tag, ts, value, quality: "good", ...extra } as TelemetryRecord;
}

async function aggregates(c: StoreCase, query: Omit<AggregateQuery, "agg">) {
  const out: Record<string, AggregatePoint[]> = {};
  for (const agg of AGGS) out[agg] = await collect(c.store.aggregateReadings({ ...query, agg }));
  return out;
}

/** A small deterministic generator (mulberry32): the same random data every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The aggregates of raw readings (in the store's order), as the API defines them. */
function expectedFromRaw(raw: Reading[], query: AggregateQuery): AggregatePoint[] {
  const out: AggregatePoint[] = [];
  const buckets = new Map<string, Reading[]>();
  for (const r of raw) {
    if (r.ts < query.from || r.ts >= query.to || r.quality !== "good") continue;
    const v = r.value;
    if (typeof v !== "number" && typeof v !== "bigint" && typeof v !== "boolean") continue;
    const start = Math.floor(r.ts / query.stepMs) * query.stepMs;
    const key = `${r.node}\u0000${r.device}\u0000${r.tag}\u0000${String(start).padStart(16, "0")}`;
    buckets.set(key, [...(buckets.get(key) ?? []), r]);
  }
  for (const key of [...buckets.keys()].sort()) {
    const rs = buckets.get(key) as Reading[];
    const last = rs.at(-1) as Reading;
    const nums = rs.map((r) => Number(r.value)).filter((n) => !Number.isNaN(n));
    const value = {
      avg: nums.reduce((a, x) => a + x, 0) / nums.length,
      min: nums.length ? Math.min(...nums) : null,
      max: nums.length ? Math.max(...nums) : null,
      last: Number(last.value),
      count: nums.length,
    }[query.agg];
    out.push({
      node: last.node,
      device: last.device,
      tag: last.tag,
      ...(last.unit !== undefined ? { unit: last.unit } : {}),
      ts: Number(key.split("\u0000")[3]),
      value: value === null || Number.isNaN(value) ? null : value,
      count: nums.length,
    });
  }
  return out;
}

/** Equal, but `avg` within rounding: a sum's rounding depends on the order it was added in. */
function assertSamePoints(got: AggregatePoint[], want: AggregatePoint[], what: string): void {
  assert.equal(got.length, want.length, `${what}: number of points`);
  got.forEach((p, i) => {
    const w = want[i] as AggregatePoint;
    if (p.value !== null && w.value !== null && p.value !== w.value) {
      assert.ok(
        Math.abs(p.value - w.value) <= 1e-9 * Math.max(1, Math.abs(w.value)),
        `${what} point ${i}: ${p.value} vs ${w.value}`,
      );
      assert.deepEqual({ ...p, value: 0 }, { ...w, value: 0 }, `${what} point ${i}`);
    } else assert.deepEqual(p, w, `${what} point ${i}`);
  });
}

export function retentionCases(c: StoreCase): void {
  describe("retention and rollups", () => {
    it("keeps raw readings 1 day: older ones go, their rollups stay and answer aggregates as before", async () => {
      await c.reopen({ retention: parseRetention(["*:1d:30d"]) });
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW - 3 * DAY);
      const old = NOW - 2 * DAY;
      const records = Array.from({ length: 300 }, (_, i) =>
        rec("rpm", old + i * 1_000, i % 5 === 0 ? BigInt(i) : i / 4, { unit: "rpm" }),
      );
      // Received when they were stamped: stored raw, then aged past the raw retention.
      await c.store.ingestChunks([recordChunk("gw-1", 1, records, { receivedAt: old + 300_000 })]);
      await c.store.ingestChunks([
        recordChunk("gw-1", 2, [rec("rpm", NOW - 60_000, 7)], { receivedAt: NOW }),
      ]);
      const window = { from: old - 30_000, to: old + 330_000, stepMs: MINUTE };
      const before = await aggregates(c, window);
      assert.equal(before.count?.length, 5, "five minutes of readings");

      const result = await c.store.applyRetention(NOW);
      assert.deepEqual(result, {
        readings: 300,
        rollups: 0,
        chunkBodies: 0,
        series: 0,
        complete: true,
      });
      assert.deepEqual(
        (await collectPages(c.store.readingPages({ from: 0, to: 2 ** 52 }))).map((r) => r.value),
        [7],
      );
      assert.deepEqual(await aggregates(c, window), before, "the same answer from the rollups");
      const wide = await collect(
        c.store.aggregateReadings({ from: old, to: NOW, stepMs: 10 * MINUTE, agg: "count" }),
      );
      assert.deepEqual(
        wide.map((p) => [p.ts - old, p.count]),
        [
          [0, 300],
          [2 * DAY - 10 * MINUTE, 1],
        ],
      );
      assert.deepEqual(await c.store.readingSeries(), [
        { node: "gw-1", device: "turbine-1", tag: "rpm" },
      ]);

      // A month on, the rollups are past their retention too: nothing of the series is left.
      const later = await c.store.applyRetention(NOW + 31 * DAY);
      assert.deepEqual(later, {
        readings: 1,
        rollups: 6,
        chunkBodies: 0,
        series: 1,
        complete: true,
      });
      assert.deepEqual(await c.store.readingSeries(), []);
      assert.deepEqual(await collect(c.store.aggregateReadings({ ...window, agg: "count" })), []);
      // The series comes back with the next reading.
      await c.store.ingestChunks([
        recordChunk("gw-1", 3, [rec("rpm", NOW + 31 * DAY, 1)], { receivedAt: NOW + 31 * DAY }),
      ]);
      assert.equal((await c.store.readingSeries()).length, 1);
    });

    it("merges a reading arriving 3 days late into its minute's rollup, not stored raw, counted expired", async () => {
      await c.reopen({ retention: parseRetention(["*:1d:30d", "other:forever:forever"]) });
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW);
      const minute = NOW - 3 * DAY;
      await c.store.ingestChunks([
        recordChunk(
          "gw-1",
          1,
          [
            rec("rpm", minute + 10_000, 4, { unit: "rpm" }),
            rec("rpm", minute + 20_000, 2, { unit: "rpm" }),
            rec("rpm", minute + 30_000, "text"),
            { ...rec("rpm", minute + 40_000, 100), quality: "uncertain" },
            rec("rpm", NOW - 40 * DAY, 9),
          ],
          { receivedAt: NOW },
        ),
        recordChunk("gw-1", 2, [rec("rpm", minute + 5_000, 5)], {
          receivedAt: NOW,
          stream: "other",
        }),
      ]);
      assert.deepEqual(
        (await collectPages(c.store.readingPages({ from: 0, to: 2 ** 52, anyQuality: true }))).map(
          (r) => [r.ts - minute, r.value, r.stream],
        ),
        [[5_000, 5, "other"]],
        "only the stream that keeps raw readings forever has one",
      );
      assert.deepEqual(await c.store.readingCounts(), [
        { node: "gw-1", late: 6, clockSuspect: 0, expired: 5, awaitingSchema: 0, decodeFailed: 0 },
      ]);
      const window = { from: minute, to: minute + MINUTE, stepMs: MINUTE };
      const point = async () => {
        const all = await aggregates(c, window);
        return Object.fromEntries(AGGS.map((a) => [a, all[a]?.map((p) => [p.value, p.count])]));
      };
      assert.deepEqual(await point(), {
        avg: [[11 / 3, 3]],
        min: [[2, 3]],
        max: [[5, 3]],
        last: [[2, 3]],
        count: [[3, 3]],
      });
      // Another late reading recomputes the minute it lands in, stored or not.
      await c.store.ingestChunks([
        recordChunk("gw-1", 3, [rec("rpm", minute + 50_000, 1, { unit: "rpm" })], {
          receivedAt: NOW + 1_000,
        }),
      ]);
      assert.deepEqual(await point(), {
        avg: [[3, 4]],
        min: [[1, 4]],
        max: [[5, 4]],
        last: [[1, 4]],
        count: [[4, 4]],
      });
      const [last] = await collect(c.store.aggregateReadings({ ...window, agg: "last" }));
      assert.equal(last?.unit, "rpm");
      assert.deepEqual(await c.store.readingSeries(), [
        { node: "gw-1", device: "turbine-1", tag: "rpm" },
      ]);
    });

    it("keeps acking ingest while retention deletes a large table", async function () {
      this.timeout(120_000);
      await c.reopen({ retention: parseRetention(["*:1d:forever"]) });
      const old = NOW - 3 * DAY;
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, old);
      const total = 200_000;
      const perChunk = 2_000;
      for (let k = 0; k < total / perChunk; k++) {
        const records = Array.from({ length: perChunk }, (_, i) =>
          rec(`t${i % 10}`, old + (k * perChunk + i) * 100, i),
        );
        await c.store.ingestChunks([recordChunk("gw-1", k + 1, records, { receivedAt: old })]);
      }
      let retentionDone = false;
      const run = c.store.applyRetention(NOW).then((r) => {
        retentionDone = true;
        return r;
      });
      const acked = await c.store.ingestChunks([
        recordChunk("gw-2", 1, [rec("rpm", NOW, 1)], { receivedAt: NOW }),
      ]);
      assert.deepEqual(acked, [{ duplicate: false }]);
      assert.equal(retentionDone, false, "ingest committed while retention was still running");
      const result = await run;
      assert.equal(result.readings, total);
      assert.equal(result.complete, true);
      assert.deepEqual(
        (await collectPages(c.store.readingPages({ from: 0, to: 2 ** 52 }))).map((r) => r.node),
        ["gw-2"],
      );
    });

    it("keeps decoded chunk bodies for --keep-chunks days, then drops them; the dedupe rows stay", async () => {
      await c.reopen({ retention: parseRetention([], "2") });
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW - 5 * DAY);
      const early = recordChunk("gw-1", 1, [rec("rpm", NOW - 3 * DAY, 1)], {
        receivedAt: NOW - 3 * DAY,
      });
      const recent = recordChunk("gw-1", 2, [rec("rpm", NOW - DAY, 2)], { receivedAt: NOW - DAY });
      const awaiting = recordChunk("gw-1", 3, [rec("rpm", NOW - DAY, 3)], {
        receivedAt: NOW - DAY,
        schema: Buffer.alloc(32, 7),
      });
      await c.store.ingestChunks([early, recent, awaiting]);
      const bodies = async () =>
        Object.fromEntries(
          (await c.store.queryChunks({ withBody: true })).map((k) => [k.chunkId, k.body.length]),
        );
      assert.deepEqual(await bodies(), {
        1: early.body.length,
        2: recent.body.length,
        3: awaiting.body.length,
      });
      assert.deepEqual(await c.store.applyRetention(NOW), {
        readings: 0,
        rollups: 0,
        chunkBodies: 1,
        series: 0,
        complete: true,
      });
      assert.deepEqual(await bodies(), { 1: 0, 2: recent.body.length, 3: awaiting.body.length });
      assert.deepEqual(await c.store.ingestChunks([early]), [{ duplicate: true }]);
      // Past N days every decoded body goes; one awaiting its schema is never dropped.
      await c.store.applyRetention(NOW + 5 * DAY);
      assert.deepEqual(await bodies(), { 1: 0, 2: 0, 3: awaiting.body.length });
      assert.deepEqual(await c.store.ingestChunks([early, recent]), [
        { duplicate: true },
        { duplicate: true },
      ]);
      assert.deepEqual(
        (await collectPages(c.store.readingPages({ from: 0, to: 2 ** 52 }))).map((r) => r.value),
        [1, 2],
      );
    });

    it("answers from the rollups exactly what the raw readings give, over random data, late readings and ties", async () => {
      await c.store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, NOW);
      const next = random(28);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
      const start = NOW - 2 * 60 * MINUTE;
      const value = (): TelemetryRecord["value"] =>
        pick([
          // (+ 0: no -0, which stores may keep or not)
          () => Math.round((next() - 0.5) * 1e6) / 64 + 0,
          () => (next() < 0.3 ? Number.NaN : next() * 10),
          () => BigInt(Math.round((next() - 0.5) * 2 ** 40)),
          () => next() < 0.5,
          () => "text",
        ])();
      const chunks = Array.from({ length: 40 }, (_, k) => {
        const records = Array.from({ length: 120 }, () => {
          // Time stamps on whole seconds: readings of different chunks tie often.
          const ts = start + Math.floor(next() * 40 * 60) * 1_000;
          const extra: Partial<TelemetryRecord> = {
            quality: next() < 0.1 ? "uncertain" : "good",
            ...(next() < 0.5 ? { unit: pick(["rpm", "Hz"]) } : {}),
          };
          return rec(pick(["a", "b", "c"]), ts, value(), extra);
        });
        // Some chunks share their sequence numbers: (ts, seq) ties broken by the chunk.
        return recordChunk("gw-1", k + 1, records, {
          firstSeq: (k % 4) * 100 + 1,
          receivedAt: NOW,
        });
      });
      // The same (ts, seq) in two chunks, last in its minute: the higher chunk id is last.
      for (const [id, v] of [
        [41, 10],
        [42, 20],
      ] as const)
        chunks.push(
          recordChunk(
            "gw-1",
            id,
            [rec("a", start + 119_500, v, { unit: "rpm" }), rec("a", start + 119_500, v + 1)],
            { firstSeq: 1, receivedAt: NOW },
          ),
        );
      // Chunks arrive in no order: every minute is merged from many, late ones last.
      for (let i = 0; i < chunks.length; i += 5)
        await c.store.ingestChunks(chunks.slice(i, i + 5).reverse());
      const raw = await collectPages(c.store.readingPages({ from: 0, to: 2 ** 52 }));
      const windows = [
        { from: start, to: start + 40 * MINUTE, stepMs: MINUTE },
        { from: start + 17_000, to: start + 29 * MINUTE + 5_000, stepMs: MINUTE },
        { from: start - 7 * MINUTE, to: start + 41 * MINUTE, stepMs: 5 * MINUTE },
        { from: start + 59_999, to: start + 2 * MINUTE + 1, stepMs: 3 * MINUTE },
        { from: start + 5_000, to: start + 50_000, stepMs: MINUTE },
      ];
      for (const w of windows)
        for (const agg of AGGS) {
          const query = { ...w, agg };
          assertSamePoints(
            await collect(c.store.aggregateReadings(query)),
            expectedFromRaw(raw, query),
            `${agg} over [${w.from - start}, ${w.to - start}) step ${w.stepMs}`,
          );
        }
    });
  });
}
