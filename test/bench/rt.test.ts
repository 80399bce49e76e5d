import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Cgroup } from "../../native/index.js";
import { irqAffinityPath, listIrqs } from "../../realtime/index.js";
import { repoRoot } from "../helpers/run-outpost.js";
import { assertNoRunningDemo } from "../helpers/running-demo.js";

const affinities = () => listIrqs().map((irq) => readFileSync(irqAffinityPath(irq), "utf8"));

describe("bench rt", function () {
  this.timeout(60_000);
  before(assertNoRunningDemo);

  it("measures the probe on an isolated core and on a shared core under stress-ng, prints both and the ratio, and leaves no cgroup or IRQ change behind", () => {
    const irqsBefore = affinities();
    const r = spawnSync(
      process.execPath,
      [
        ...["--import", "tsx", join(repoRoot, "bench", "rt.ts")],
        ...["--loops", "200", "--interval", "500", "--stressors", "1"],
      ],
      { cwd: repoRoot, encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^rt: isolated cpu \d+ min \d+ avg [\d.]+ p99 \S+ max \d+ µs \(200 samples/m,
    );
    assert.match(
      r.stdout,
      /^rt: shared {3}cpu \d+ min \d+ avg [\d.]+ p99 \S+ max \d+ µs \(200 samples/m,
    );
    const result = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "");
    assert.equal(result.name, "rt");
    assert.ok(result.ours > 0 && result.baseline > 0);
    assert.equal(result.ratio, Number((result.ours / result.baseline).toFixed(4)));
    assert.ok(result.extra.isolatedMaxUs >= result.ours);
    assert.ok(result.extra.sharedMaxUs >= result.baseline);
    const cpuset = Cgroup.own().dirs.v1.cpuset as string;
    assert.deepEqual(
      readdirSync(cpuset).filter((name) => name.startsWith("outpost-bench-rt-")),
      [],
    );
    assert.deepEqual(affinities(), irqsBefore);
  });
});
