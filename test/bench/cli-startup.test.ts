import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { runBench } from "../helpers/bench-run.js";
import { repoRoot } from "../helpers/run-outpost.js";

describe("npm run bench", function () {
  this.timeout(120_000);

  it("runs a bench and ends with its JSON result: name, ours, baseline, unit, ratio", () => {
    const r = spawnSync("npm", ["run", "--silent", "bench", "--", "cli-startup"], {
      cwd: repoRoot,
      env: { ...process.env, BENCH_ROUNDS: "2" },
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    const last = r.stdout.trim().split("\n").at(-1) ?? "";
    const result = JSON.parse(last) as Record<string, unknown>;
    assert.equal(result.name, "cli-startup");
    assert.ok(typeof result.ours === "number" && result.ours > 0);
    assert.ok(typeof result.baseline === "number" && result.baseline > 0);
    assert.equal(
      result.ratio,
      Number(((result.ours as number) / (result.baseline as number)).toFixed(4)),
    );
    assert.equal(typeof result.unit, "string");
  });

  it("refuses an unknown bench with exit 2 and lists the known ones", () => {
    const r = runBench(["no-such-bench"], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown bench 'no-such-bench'; available: .*cli-startup/);
  });
});
