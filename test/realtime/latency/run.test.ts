import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { CpuNotOnlineError, readCpuTopology } from "../../../native/index.js";
import {
  CPU_DMA_LATENCY,
  defaultLatencyCpus,
  LATENCY_TEST_DEFAULTS,
  LatencyTestAbortedError,
  latencySettingsOf,
  runLatencyTest,
} from "../../../realtime/index.js";

const pmQosNow = () => readFileSync(CPU_DMA_LATENCY).readInt32LE(0);

describe("realtime latency-test", function () {
  this.timeout(20_000);

  it("measures the isolated online CPUs by default, every online CPU when none is isolated", () => {
    assert.deepEqual(defaultLatencyCpus({ online: [0, 1, 2, 3], isolated: [2, 3] }), [2, 3]);
    assert.deepEqual(defaultLatencyCpus({ online: [0, 1], isolated: [] }), [0, 1]);
    // isolcpus= may name CPUs that are offline now.
    assert.deepEqual(defaultLatencyCpus({ online: [0, 1], isolated: [6, 7] }), [0, 1]);
  });

  it("fills in cyclictest's defaults where it has them", () => {
    assert.deepEqual(latencySettingsOf({}), { ...LATENCY_TEST_DEFAULTS });
    assert.equal(LATENCY_TEST_DEFAULTS.interval, 1000);
    assert.equal(LATENCY_TEST_DEFAULTS.pmQos, 0);
    assert.equal(latencySettingsOf({ pmQos: null }).pmQos, null);
  });

  it("runs on this box's default CPUs with the PM QoS request held only during the run", async () => {
    const before = pmQosNow();
    let during: number | undefined;
    const timer = setTimeout(() => {
      during = pmQosNow();
    }, 150);
    const report = await runLatencyTest({ loops: 400, histogramMaxUs: 500 });
    clearTimeout(timer);
    assert.equal(during, 0);
    assert.equal(pmQosNow(), before);
    assert.equal(report.pmQos, 0);
    assert.deepEqual(
      report.cpus.map((c) => c.cpu),
      defaultLatencyCpus(readCpuTopology()),
    );
    for (const c of report.cpus) {
      assert.equal(c.samples, 400);
      assert.ok(c.min !== null && c.avg !== null && c.max !== null);
      assert.ok(c.min <= c.avg && c.avg <= c.max);
      assert.ok(c.p99 === null || (c.p50 !== null && c.p50 <= c.p99));
    }
  });

  it("opens nothing for a CPU that is not online", async () => {
    const before = pmQosNow();
    await assert.rejects(runLatencyTest({ cpus: [4096], loops: 10 }), CpuNotOnlineError);
    assert.equal(pmQosNow(), before);
  });

  it("hands back the partial report when aborted and releases the PM QoS request", async () => {
    const before = pmQosNow();
    const controller = new AbortController();
    const run = runLatencyTest({ cpus: [0], loops: 1_000_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    const err = await run.then(
      () => assert.fail("must reject"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof LatencyTestAbortedError);
    assert.equal(err.code, "ABORT_ERR");
    assert.equal(err.partial.loops, 1_000_000);
    const [cpu0] = err.partial.cpus;
    assert.ok(cpu0 && cpu0.samples > 0 && cpu0.samples < 1_000_000);
    assert.equal(pmQosNow(), before);
  });
});
