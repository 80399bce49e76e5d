export { CPU_DMA_LATENCY, type CpuDmaLatencyHold, holdCpuDmaLatency } from "./cpu-dma-latency.js";
export {
  CyclictestOutputError,
  type CyclictestThread,
  parseCyclictestJson,
} from "./cyclictest-json.js";
export {
  type CpuLatency,
  cpuLatencyOf,
  type HistogramBuckets,
  histogramPercentile,
  type LatencyReport,
  type LatencySettings,
  latencyReportOf,
  sparseHistogram,
} from "./latency-report.js";
export { latencyHistogramSvg, type PlotOptions, type PlotSeries } from "./latency-svg.js";
export {
  defaultLatencyCpus,
  LATENCY_TEST_DEFAULTS,
  LatencyTestAbortedError,
  type LatencyTestOptions,
  latencySettingsOf,
  runLatencyTest,
} from "./latency-test.js";
