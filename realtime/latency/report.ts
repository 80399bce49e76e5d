import type { LatencyProbeCpu, LatencyProbeResult } from "../../native/index.js";

/** A histogram as its non-zero buckets: `[us, count]`, count samples in [us, us+1) µs. */
export type HistogramBuckets = [us: number, count: number][];

/** One CPU's latency figures in µs; `null` when the CPU has no sample (aborted early). */
export interface CpuLatency {
  cpu: number;
  samples: number;
  min: number | null;
  avg: number | null;
  max: number | null;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  /** Samples at or above the histogram range, counted but not in `histogram`. */
  overflow: number;
  histogram: HistogramBuckets;
}

/** The settings a latency run used, then one entry per CPU. */
export interface LatencyReport {
  priority: number;
  interval: number;
  loops: number;
  histogramMaxUs: number;
  lockMemory: boolean;
  /** The /dev/cpu_dma_latency request held during the run in µs, `null` if none. */
  pmQos: number | null;
  cpus: CpuLatency[];
}

export type LatencySettings = Omit<LatencyReport, "cpus">;

/** Pure: the sparse form of a dense per-µs histogram. */
export function sparseHistogram(dense: ArrayLike<number>): HistogramBuckets {
  const out: HistogramBuckets = [];
  for (let us = 0; us < dense.length; us++) {
    const count = dense[us] ?? 0;
    if (count > 0) out.push([us, count]);
  }
  return out;
}

/**
 * Pure: the nearest-rank percentile (the smallest latency at or below which at least
 * q·samples samples lie). `null` when it falls among the overflow samples, whose values
 * the histogram does not keep, or when there is no sample.
 */
export function histogramPercentile(
  histogram: HistogramBuckets,
  samples: number,
  q: number,
): number | null {
  if (samples === 0) return null;
  const rank = Math.max(1, Math.ceil(q * samples));
  let seen = 0;
  for (const [us, count] of histogram) {
    seen += count;
    if (seen >= rank) return us;
  }
  return null;
}

/** Pure: one probe thread's raw figures as a report entry. */
export function cpuLatencyOf(raw: LatencyProbeCpu): CpuLatency {
  const histogram = sparseHistogram(raw.histogram);
  const some = raw.samples > 0;
  return {
    cpu: raw.cpu,
    samples: raw.samples,
    min: some ? raw.minUs : null,
    avg: some ? Number((raw.sumUs / raw.samples).toFixed(2)) : null,
    max: some ? raw.maxUs : null,
    p50: histogramPercentile(histogram, raw.samples, 0.5),
    p99: histogramPercentile(histogram, raw.samples, 0.99),
    p999: histogramPercentile(histogram, raw.samples, 0.999),
    overflow: raw.overflow,
    histogram,
  };
}

/** Pure: a probe result (complete, or the partial one of an aborted run) as a report. */
export function latencyReportOf(settings: LatencySettings, raw: LatencyProbeResult): LatencyReport {
  return { ...settings, cpus: raw.cpus.map(cpuLatencyOf) };
}
