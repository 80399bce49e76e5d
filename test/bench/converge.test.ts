import { strict as assert } from "node:assert";
import { runBench } from "../helpers/bench-run.js";
import { repoRoot } from "../helpers/run-outpost.js";

describe("bench converge", function () {
  this.timeout(180_000);

  it("converges a few instances through a real agent and master, measures the outpost exec baseline and ends with the JSON result", () => {
    const r = runBench(["converge", "--instances", "3", "--idle-seconds", "1"], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "") as {
      name: string;
      ours: number;
      baseline: number;
      ratio: number;
      extra: { instances: number; agentRssMB: number; agentIdleCpuPercent: number };
    };
    assert.equal(result.name, "converge");
    assert.ok(result.ours > 0 && result.baseline > 0);
    assert.equal(result.ratio, Number((result.ours / result.baseline).toFixed(4)));
    assert.equal(result.extra.instances, 3);
    assert.ok(result.extra.agentRssMB > 10, "the agent's RSS is measured");
    assert.ok(result.extra.agentIdleCpuPercent >= 0);
  });
});
