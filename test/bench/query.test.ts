import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { runBench } from "../helpers/bench-run.js";
import { repoRoot } from "../helpers/run-outpost.js";

describe("bench query", function () {
  this.timeout(180_000);

  it("reads one tag's day through the master and by each store's CLI alike, ending with the JSON result", () => {
    const r = runBench(
      ["query", ...["--readings", "200000", "--days", "1", "--tags", "2", "--rounds", "2"]],
      { cwd: repoRoot, encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "") as Record<
      string,
      unknown
    > & { extra: Record<string, number | string> };
    assert.equal(result.name, "query");
    assert.equal(result.better, "higher");
    assert.ok(typeof result.ours === "number" && result.ours > 0);
    assert.ok(typeof result.baseline === "number" && result.baseline > 0);
    assert.equal(
      result.ratio,
      Number(((result.ours as number) / (result.baseline as number)).toFixed(4)),
    );
    // 200,000 asked: 2 devices of 2 tags over 1 day at 1 Hz.
    assert.equal(result.extra.readings, 345_600);
    assert.equal(result.extra.devices, 2);
    assert.equal(result.extra.format, "csv");
    for (const store of ["sqlite", "postgres"]) {
      assert.equal(result.extra[`${store}_readings_read`], 86_400, store);
      for (const key of ["readings_per_s", "baseline_readings_per_s", "ratio", "fill_s"])
        assert.ok(Number(result.extra[`${store}_${key}`]) > 0, `${store}_${key}`);
    }
    assert.ok(["sqlite", "postgres"].includes(String(result.extra.headline_store)));
    assert.match(r.stdout, /^query: postgres: 345600 readings stored in [\d.]+ s$/m);
  });

  it("refuses a malformed setting with exit 2", () => {
    const bench = join(repoRoot, "dist", "bench", "query.js");
    for (const [args, message] of [
      [["--readings", "50M"], "--readings must be a whole number from 86400 to 2000000000"],
      [["--store", "mysql"], "--store takes sqlite, postgres or both (comma-separated)"],
      [["--days", "40"], "--days must be a whole number from 1 to 28"],
    ] as const) {
      const r = spawnSync(process.execPath, [bench, ...args], { cwd: repoRoot, encoding: "utf8" });
      assert.equal(r.status, 2, args.join(" "));
      assert.equal(r.stderr, `bench query: ${message}\n`);
    }
  });
});
