import { strict as assert } from "node:assert";
import { parse } from "csv-parse/sync";
import { openDataDir, type ReadingsAnswer, readingsSearch } from "../../../master/index.js";
import { MasterHarness } from "../master-harness.js";
import { type SeededReading, seedReadings } from "./readings-fixture.js";

/** A minute-aligned start ten minutes ago, so 10 s buckets hold whole chunks. */
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 600_000;
const WINDOW = { from: T0, to: T0 + 120_000 };

describe("GET /v1/readings through a real master", function () {
  this.timeout(20_000);
  const h = new MasterHarness();
  let seeded: SeededReading[];
  let token: string;

  before(async () => {
    await h.start();
    token = openDataDir(h.dir).adminToken;
    seeded = await seedReadings(h.master.store, T0);
  });
  after(() => h.close());

  async function get(query: string, accept?: string): Promise<Response> {
    return fetch(`${h.master.url}/v1/readings?${query}`, {
      headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) },
    });
  }

  const good = () => seeded.filter((s) => s.stored && s.record.quality === "good");
  const points = (a: ReadingsAnswer) => a.series.reduce((n, s) => n + s.points.length, 0);

  it("answers every stored good reading once, by series, 64-bit values exact", async () => {
    const answer = await h.client.readings(WINDOW);
    assert.deepEqual(
      answer.series.map((s) => [s.node, s.device, s.tag, s.unit, s.stream]),
      [
        ["n1", "turbine-1", "counter", null, "telemetry"],
        ["n1", "turbine-1", "energy", "Wh", "telemetry"],
        ["n1", "turbine-1", "rotor_rpm", "rpm", "telemetry"],
        ["n1", "turbine-1", "sample", null, "telemetry"],
        ["n1", "turbine-2", "rotor_rpm", "rpm", "telemetry"],
      ],
    );
    assert.equal(points(answer), good().length);
    const energy = answer.series[1]?.points ?? [];
    const expected = good().filter((s) => s.record.tag === "energy");
    assert.deepEqual(
      energy,
      expected.map((s) => [s.record.ts, String(s.record.value), "good"]),
    );
    assert.ok(BigInt(energy[0]?.[1] as string) > 2n ** 53n, "beyond what a double holds");
    assert.equal(answer.series[0]?.points[0]?.[1], String(2n ** 64n - 1n));
  });

  it("places the two sequence gaps between the readings around them, the reported one with its loss", async () => {
    const answer = await h.client.readings({ ...WINDOW, device: "turbine-1", tags: ["sample"] });
    assert.deepEqual(
      answer.gaps.map((g) => [
        g.stream,
        g.fromSeq,
        g.toSeq,
        g.records,
        g.reported,
        g.fromTs - T0,
        g.toTs - T0,
      ]),
      [
        ["telemetry", 101, 150, 50, true, 19_000, 30_000],
        ["telemetry", 201, 250, 50, false, 39_000, 50_000],
      ],
    );
    assert.deepEqual(
      answer.losses.map((l) => [l.fromSeq, l.toSeq, l.reason]),
      [[101, 150, "overflow"]],
    );
    const inside = await h.client.readings({ from: T0, to: T0 + 15_000 });
    assert.deepEqual(inside.gaps, [], "no gap inside a window of whole chunks");
  });

  it("filters by node, device, several tags and quality", async () => {
    const rpm = await h.client.readings({
      ...WINDOW,
      tags: ["rotor_rpm", "sample"],
      device: "turbine-1",
    });
    assert.deepEqual(
      rpm.series.map((s) => s.tag),
      ["rotor_rpm", "sample"],
    );
    const any = await h.client.readings({
      ...WINDOW,
      tags: ["rotor_rpm"],
      device: "turbine-1",
      quality: "any",
    });
    const bad = any.series[0]?.points.filter((p) => p[2] !== "good") ?? [];
    assert.ok(bad.length > 0 && bad.every((p) => p[2] === "comm_error" && p[1] !== null));
    assert.equal(
      any.series[0]?.points.length,
      seeded.filter(
        (s) => s.stored && s.record.device === "turbine-1" && s.record.tag === "rotor_rpm",
      ).length,
    );
    assert.deepEqual((await h.client.readings({ ...WINDOW, node: "n2" })).series, []);
  });

  it("aggregates per step match the raw rows: avg, min, max, last, count", async () => {
    // 64-bit values are aggregated as doubles: checked on the tags a double holds exactly.
    const raw = good().filter((s) => typeof s.record.value === "number");
    for (const agg of ["avg", "min", "max", "last", "count"] as const) {
      const answer = await h.client.readings({ ...WINDOW, step: "10s", agg });
      for (const series of answer.series.filter((s) => s.tag !== "energy" && s.tag !== "counter")) {
        const rows = raw.filter(
          (s) => s.record.device === series.device && s.record.tag === series.tag,
        );
        const buckets = new Map<number, number[]>();
        for (const r of rows) {
          const start = r.record.ts - ((r.record.ts - T0) % 10_000);
          buckets.set(start, [...(buckets.get(start) ?? []), Number(r.record.value)]);
        }
        const expected = [...buckets].map(([ts, vs]) => {
          const value = {
            avg: vs.reduce((a, b) => a + b, 0) / vs.length,
            min: Math.min(...vs),
            max: Math.max(...vs),
            last: vs.at(-1) as number,
            count: vs.length,
          }[agg];
          return [ts, value, vs.length];
        });
        assert.equal(
          series.points.length,
          expected.length,
          `${agg} ${series.device}/${series.tag}`,
        );
        series.points.forEach((p, i) => {
          const [ts, value, count] = expected[i] as number[];
          assert.equal(p[0], ts);
          assert.ok(Math.abs(Number(p[1]) - (value as number)) < 1e-9, `${agg} ${p[1]} ≈ ${value}`);
          assert.equal(p[2], count);
        });
      }
    }
  });

  it("answers CSV (RFC 4180) with as many rows as the JSON has points", async () => {
    const res = await get(readingsSearch({ ...WINDOW, quality: "any" }).toString(), "text/csv");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/csv/);
    const rows = parse(await res.text(), { columns: true }) as Record<string, string>[];
    const json = await h.client.readings({ ...WINDOW, quality: "any" });
    assert.equal(rows.length, points(json));
    assert.equal(rows.length, seeded.filter((s) => s.stored).length);
    const energy = rows.find((r) => r.tag === "energy");
    assert.equal(energy?.value, String(2n ** 62n));
    assert.equal(energy?.ts, new Date(T0).toISOString());
  });

  it("answers NDJSON with every field typed", async () => {
    const res = await get(
      readingsSearch({ ...WINDOW, tags: ["energy"] }).toString(),
      "application/x-ndjson",
    );
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, good().filter((s) => s.record.tag === "energy").length);
    assert.deepEqual(lines[0], {
      ts: T0,
      node: "n1",
      stream: "telemetry",
      device: "turbine-1",
      tag: "energy",
      type: "int64",
      value: String(2n ** 62n),
      unit: "Wh",
      quality: "good",
      seq: 3,
    });
  });

  it("lists the series that have readings (the page's picker)", async () => {
    assert.deepEqual(
      (await h.client.readingSeries({ node: "n1" })).map((s) => `${s.device}/${s.tag}`),
      [
        "turbine-1/counter",
        "turbine-1/energy",
        "turbine-1/rotor_rpm",
        "turbine-1/sample",
        "turbine-2/rotor_rpm",
      ],
    );
  });

  for (const [query, parameter] of [
    ["from=yesterday", "from"],
    ["to=12%3A00", "to"],
    [`from=${T0 + 1000}&to=${T0}`, "from"],
    ["step=fast", "step"],
    ["step=0ms", "step"],
    ["agg=avg", "agg"],
    ["tag=", "tag"],
    ["quality=bad", "readings query: quality"],
    ["agg=median&step=1m", "readings query: agg"],
    ["limit=5", "readings query: unknown field 'limit'"],
  ] as const) {
    it(`refuses ${query} with a 400 naming ${parameter}`, async () => {
      const res = await get(query);
      assert.equal(res.status, 400);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(error.code, "E_MASTER_INVALID");
      assert.ok(error.message.startsWith(parameter), error.message);
    });
  }

  it("is in the OpenAPI document with its parameters and media types", async () => {
    const doc = (await (
      await fetch(`${h.master.url}/v1/openapi.json`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as {
      paths: Record<
        string,
        { get: { parameters: { name: string }[]; responses: Record<string, { content?: object }> } }
      >;
    };
    const route = doc.paths["/v1/readings"]?.get;
    assert.deepEqual(
      route?.parameters.map((p) => p.name),
      ["node", "device", "tag", "from", "to", "step", "agg", "quality"],
    );
    assert.ok(doc.paths["/v1/readings/series"]);
  });

  it("survives a master restart: the same window reads the same", async () => {
    const before = await h.client.readings(WINDOW);
    await h.restart();
    assert.deepEqual(await h.client.readings(WINDOW), before);
  });
});
