import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBench } from "../helpers/bench-run.js";
import { repoRoot } from "../helpers/run-outpost.js";

describe("bench latency", function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-bench-latency-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("runs outpost rt latency and cyclictest alike and ends with the JSON result and an SVG plot", () => {
    const svg = join(dir, "plot.svg");
    const r = runBench(
      [
        "latency",
        ...["--cpu", "0", "--priority", "60", "--interval", "500", "--loops", "200"],
        ...["--histogram", "2000", "--rounds", "2", "--svg", svg],
      ],
      { cwd: repoRoot, encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.match(
      r.stdout,
      /^outpost rt latency +min \d+ avg [\d.]+ p50 \S+ p99 \S+ max \d+ µs \(400 samples/m,
    );
    assert.match(
      r.stdout,
      /^cyclictest +min \d+ avg [\d.]+ p50 \S+ p99 \S+ max \d+ µs \(400 samples/m,
    );
    const result = JSON.parse(lines.at(-1) ?? "") as Record<string, unknown> & {
      extra: Record<string, unknown>;
    };
    assert.equal(result.name, "latency");
    assert.equal(result.better, "lower");
    assert.ok(typeof result.ours === "number" && result.ours >= 0);
    assert.ok(typeof result.baseline === "number" && result.baseline >= 0);
    assert.equal(
      result.ratio,
      Number(((result.ours as number) / (result.baseline as number)).toFixed(4)),
    );
    assert.equal(result.extra.cpu, 0);
    assert.equal(result.extra.priority, 60);
    assert.equal(result.extra.loops, 200);
    assert.equal(result.extra.rounds, 2);
    for (const key of [
      "ours_min_us",
      "ours_p50_us",
      "ours_p99_us",
      "ours_max_us",
      "cyclictest_min_us",
      "cyclictest_p50_us",
      "cyclictest_p99_us",
      "cyclictest_max_us",
    ]) {
      assert.ok(key in result.extra, key);
    }
    assert.equal(result.extra.svg, svg);
    assert.ok(existsSync(svg));
    const doc = readFileSync(svg, "utf8");
    assert.match(doc, /<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.ok(doc.includes("outpost rt latency: min") && doc.includes("cyclictest: min"));
  });

  it("refuses a malformed setting with exit 2", () => {
    const r = spawnSync(
      process.execPath,
      [join(repoRoot, "dist", "bench", "latency.js"), "--loops", "many"],
      {
        cwd: repoRoot,
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 2);
    assert.equal(r.stderr, "bench latency: --loops must be a whole number\n");
  });
});
