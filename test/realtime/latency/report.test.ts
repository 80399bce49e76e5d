import { strict as assert } from "node:assert";
import type { LatencyProbeCpu } from "../../../native/index.js";
import {
  cpuLatencyOf,
  histogramPercentile,
  latencyReportOf,
  sparseHistogram,
} from "../../../realtime/index.js";

function raw(
  dense: number[],
  overflow: number,
  extra: Partial<LatencyProbeCpu> = {},
): LatencyProbeCpu {
  const inRange = dense.reduce((a, b) => a + b, 0);
  return {
    cpu: 3,
    tid: 1234,
    policy: "fifo",
    priority: 80,
    affinity: [3],
    samples: inRange + overflow,
    minUs: dense.findIndex((c) => c > 0),
    maxUs: 0,
    sumUs: 0,
    overflow,
    histogram: Float64Array.from(dense),
    ...extra,
  };
}

describe("realtime latency-report", () => {
  it("keeps only the non-zero buckets as [us, count]", () => {
    assert.deepEqual(sparseHistogram([0, 0, 3, 0, 1]), [
      [2, 3],
      [4, 1],
    ]);
  });

  it("takes nearest-rank percentiles: the smallest latency covering q of all samples", () => {
    // 100 samples: 90 at 10 µs, 9 at 20 µs, 1 at 50 µs.
    const h: [number, number][] = [
      [10, 90],
      [20, 9],
      [50, 1],
    ];
    assert.equal(histogramPercentile(h, 100, 0.5), 10);
    assert.equal(histogramPercentile(h, 100, 0.9), 10);
    assert.equal(histogramPercentile(h, 100, 0.91), 20);
    assert.equal(histogramPercentile(h, 100, 0.99), 20);
    assert.equal(histogramPercentile(h, 100, 0.999), 50);
  });

  it("gives no percentile that falls among overflow samples, whose values are unknown", () => {
    const h: [number, number][] = [[10, 98]];
    assert.equal(histogramPercentile(h, 100, 0.98), 10);
    assert.equal(histogramPercentile(h, 100, 0.99), null);
    assert.equal(histogramPercentile([], 0, 0.5), null);
  });

  it("shapes a probe thread's raw figures: avg from the µs sum, percentiles from the histogram", () => {
    const dense = new Array<number>(100).fill(0);
    dense[12] = 60;
    dense[15] = 39;
    const c = cpuLatencyOf(raw(dense, 1, { maxUs: 4321, sumUs: 60 * 12 + 39 * 15 + 4321 }));
    assert.deepEqual(c, {
      cpu: 3,
      samples: 100,
      min: 12,
      avg: 56.26,
      max: 4321,
      p50: 12,
      p99: 15,
      p999: null,
      overflow: 1,
      histogram: [
        [12, 60],
        [15, 39],
      ],
    });
  });

  it("reports a CPU aborted before its first wake-up with nulls, not zeros", () => {
    const c = cpuLatencyOf(raw([0, 0], 0, { minUs: 0, samples: 0 }));
    assert.deepEqual(
      [c.samples, c.min, c.avg, c.max, c.p50, c.p99, c.p999],
      [0, null, null, null, null, null, null],
    );
  });

  it("puts the run's settings beside one entry per CPU", () => {
    const settings = {
      priority: 80,
      interval: 1000,
      loops: 100,
      histogramMaxUs: 100,
      lockMemory: false,
      pmQos: 0,
    };
    const report = latencyReportOf(settings, {
      cpus: [raw([0, 100], 0, { maxUs: 1, sumUs: 100 })],
    });
    assert.deepEqual({ ...report, cpus: undefined }, { ...settings, cpus: undefined });
    assert.equal(report.cpus[0]?.avg, 1);
  });
});
