import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { readPreemptRt, uname } from "../../native/index.js";
import { runOutpost } from "../helpers/run-outpost.js";

describe("outpost rt audit", function () {
  this.timeout(30_000);
  const rt = readPreemptRt(uname()).verdict;

  it("--json gives one document: the verdict and every check with status, detail and remedy", () => {
    const r = runOutpost(["rt", "audit", "--json"]);
    const report = JSON.parse(r.stdout);
    const ids = report.checks.map((c: { id: string }) => c.id);
    assert.deepEqual(ids, [
      "preempt-rt",
      "isolcpus",
      "nohz_full",
      "rcu_nocbs",
      "cpu-governor",
      "idle-states",
      "thp",
      "rt-throttling",
      "swap",
      "irq-affinity",
      "timer-migration",
    ]);
    for (const c of report.checks) {
      assert.ok(["pass", "warn", "fail"].includes(c.status), c.id);
      assert.equal(c.remedy === undefined, c.status === "pass", `${c.id}: remedy iff not pass`);
    }
    const throttle = Number(readFileSync("/proc/sys/kernel/sched_rt_runtime_us", "utf8"));
    assert.equal(report.checks[7].status, throttle === -1 ? "pass" : "warn");
    assert.equal(r.status, report.verdict === "fail" ? 1 : 0, r.stderr);
  });

  it("says this kernel is not PREEMPT_RT as a fail with its remedy, and exits 1", () => {
    const r = runOutpost(["rt", "audit"]);
    if (rt) {
      assert.match(r.stdout, /^PASS {2}preempt-rt/m);
      return;
    }
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^FAIL {2}preempt-rt .* is not PREEMPT_RT/m);
    assert.match(
      r.stdout,
      /remedy: install a PREEMPT_RT kernel \(Debian: apt-get install linux-image-rt-/,
    );
    assert.match(r.stdout, /^verdict: fail$/m);
  });
});
