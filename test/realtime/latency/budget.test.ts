import { strict as assert } from "node:assert";
import {
  type CpuLatency,
  defaultLatencyBudget,
  judgeLatency,
  type LatencyReport,
} from "../../../realtime/index.js";

function run(cpus: Partial<CpuLatency>[]): LatencyReport {
  return {
    priority: 80,
    interval: 1000,
    loops: 1000,
    histogramMaxUs: 1000,
    lockMemory: true,
    pmQos: 0,
    cpus: cpus.map((c, i) => ({
      cpu: i + 1,
      samples: 1000,
      min: 3,
      avg: 5,
      max: 20,
      p50: 5,
      p99: 12,
      p999: 18,
      overflow: 0,
      histogram: [],
      ...c,
    })),
  };
}

describe("realtime latency budgets", () => {
  it("defaults sdr-gnb to max 50 µs on x86 and 150 µs on ARM, plc to 100 µs jitter at 1 ms, best-effort to none", () => {
    assert.deepEqual(defaultLatencyBudget("sdr-gnb", "x86_64"), { maxUs: 50, intervalUs: 1000 });
    assert.deepEqual(defaultLatencyBudget("sdr-gnb", "aarch64"), { maxUs: 150, intervalUs: 1000 });
    assert.deepEqual(defaultLatencyBudget("plc", "x86_64"), { jitterUs: 100, intervalUs: 1000 });
    assert.equal(defaultLatencyBudget("best-effort", "x86_64"), null);
  });

  it("passes a PREEMPT_RT run within budget and fails one over it, naming the CPU and figure", () => {
    const gnb = { maxUs: 50, intervalUs: 1000 };
    assert.equal(judgeLatency(run([{}, {}]), gnb, true).status, "pass");
    assert.deepEqual(judgeLatency(run([{}, { max: 61 }]), gnb, true), {
      status: "fail",
      detail: "cpu 2: max 61 µs > 50 µs",
    });
    const plc = { jitterUs: 100, intervalUs: 1000 };
    assert.deepEqual(judgeLatency(run([{ min: 2, max: 140 }]), plc, true), {
      status: "fail",
      detail: "cpu 1: jitter 138 µs > 100 µs",
    });
  });

  it("counts histogram overflows against the budget even when the percentiles look fine", () => {
    const verdict = judgeLatency(run([{ overflow: 1 }]), { maxUs: 50, intervalUs: 1000 }, true);
    assert.equal(verdict.status, "fail");
    assert.match(verdict.detail, /1 sample\(s\) at or above 1000 µs/);
  });

  it("says the kernel is not PREEMPT_RT instead of passing a quiet run", () => {
    const verdict = judgeLatency(run([{}]), { maxUs: 50, intervalUs: 1000 }, false);
    assert.equal(verdict.status, "not-rt");
    assert.match(
      verdict.detail,
      /^kernel is not PREEMPT_RT: measured cpu 1 max 20 µs, but no bound/,
    );
  });

  it("refuses to judge a run whose histogram or cycle cannot show the budget", () => {
    assert.throws(
      () => judgeLatency(run([{}]), { maxUs: 5000, intervalUs: 1000 }, true),
      RangeError,
    );
    assert.throws(() => judgeLatency(run([{}]), { maxUs: 50, intervalUs: 500 }, true), RangeError);
    assert.equal(
      judgeLatency(run([{ samples: 0 }]), { maxUs: 50, intervalUs: 1000 }, true).status,
      "fail",
    );
  });
});
