import { strict as assert } from "node:assert";
import { InvalidRequestError } from "../../../master/index.js";
import {
  DEFAULT_WINDOW_MS,
  MAX_TAGS,
  parseReadingsParams,
} from "../../../master/readings/query-params.js";

const NOW = Date.parse("2026-01-31T12:00:00Z");

function refused(params: Record<string, unknown>, parameter: string, detail?: RegExp): void {
  assert.throws(
    () => parseReadingsParams(params, NOW),
    (err: unknown) =>
      err instanceof InvalidRequestError &&
      err.code === "E_MASTER_INVALID" &&
      err.message.startsWith(`${parameter}: `) &&
      (detail === undefined || detail.test(err.message)),
    `${JSON.stringify(params)} is refused naming ${parameter}`,
  );
}

describe("master/readings/query-params", () => {
  it("defaults to the last hour up to now, good readings only, raw", () => {
    assert.deepEqual(parseReadingsParams({}, NOW), {
      query: { from: NOW - DEFAULT_WINDOW_MS, to: NOW },
    });
  });

  it("reads from/to as ISO 8601, epoch ms or a duration before now", () => {
    const { query } = parseReadingsParams({ from: "10m", to: "2026-01-31T11:59:00Z" }, NOW);
    assert.equal(query.from, NOW - 600_000);
    assert.equal(query.to, NOW - 60_000);
    assert.equal(parseReadingsParams({ from: "0", to: "1000" }, NOW).query.from, 0);
  });

  it("takes `from` alone as the start of a window ending now, `to` alone as its end", () => {
    assert.equal(parseReadingsParams({ from: "1d" }, NOW).query.to, NOW);
    assert.equal(
      parseReadingsParams({ to: "1h" }, NOW).query.from,
      NOW - 3_600_000 - DEFAULT_WINDOW_MS,
    );
  });

  it("keeps the filters: node, device, one or several tags (each once), any quality", () => {
    const { query } = parseReadingsParams(
      { node: "n1", device: "turbine-1", tag: ["a", "b", "a"], quality: "any" },
      NOW,
    );
    assert.deepEqual(query, {
      node: "n1",
      device: "turbine-1",
      tags: ["a", "b"],
      from: NOW - DEFAULT_WINDOW_MS,
      to: NOW,
      anyQuality: true,
    });
    assert.deepEqual(parseReadingsParams({ tag: "rpm" }, NOW).query.tags, ["rpm"]);
    assert.equal(parseReadingsParams({ quality: "good" }, NOW).query.anyQuality, undefined);
  });

  it("aggregates with a step, avg unless told", () => {
    assert.deepEqual(parseReadingsParams({ step: "1m" }, NOW).aggregate, {
      stepMs: 60_000,
      agg: "avg",
    });
    assert.deepEqual(parseReadingsParams({ step: "1.5s", agg: "last" }, NOW).aggregate, {
      stepMs: 1500,
      agg: "last",
    });
  });

  describe("refuses bad input naming the parameter", () => {
    it("from and to that are no time", () => {
      refused({ from: "yesterday" }, "from", /ISO 8601.*got 'yesterday'/);
      refused({ to: "12:00" }, "to", /got '12:00'/);
      refused({ from: "2026-02-30T25:00:00Z" }, "from");
    });

    it("a window that ends before it starts, or is empty", () => {
      refused({ from: "2026-01-31T13:00:00Z" }, "from", /before to/);
      refused({ from: "1000", to: "1000" }, "from", /before to/);
    });

    it("a step that is no duration, or zero", () => {
      refused({ step: "fast" }, "step", /duration 'fast'/);
      refused({ step: "0ms" }, "step", /at least 1ms/);
      refused({ step: "0.2ms" }, "step", /at least 1ms/);
    });

    it("an aggregate without a step, or an unknown one", () => {
      refused({ agg: "avg" }, "agg", /needs a step/);
      refused({ step: "1m", agg: "median" }, "agg", /avg, min, max, last, count.*'median'/);
    });

    it("empty names, too many tags, an unknown quality", () => {
      refused({ tag: ["a", ""] }, "tag", /empty/);
      refused({ node: "" }, "node", /empty/);
      refused({ device: "" }, "device", /empty/);
      refused({ tag: Array.from({ length: MAX_TAGS + 1 }, (_, i) => `t${i}`) }, "tag", /at most/);
      refused({ quality: "bad" }, "quality", /'good' \(default\) or 'any'/);
    });
  });
});
