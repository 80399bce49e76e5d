export { type AuditCheck, type AuditStatus, auditChecks, auditVerdict } from "./audit/checks.js";
export { type AuditInputs, readAuditInputs } from "./audit/inputs.js";
export {
  CpusetConflictError,
  checkRtPartition,
  createRtPartition,
  type IsolateOptions,
  isolateCpus,
  releaseRtPartition,
} from "./cores/cpuset-partition.js";
export {
  assignCores,
  CoreOvercommitError,
  type CorePlan,
  claimCores,
  emptyCorePlan,
  releaseCores,
  sharedCpus,
  unassignedCores,
} from "./cores/planner.js";
export { RealtimeError } from "./errors.js";
export {
  CPU_DMA_LATENCY,
  type CpuDmaLatencyHold,
  holdCpuDmaLatency,
} from "./knobs/cpu-dma-latency.js";
export { type IrqSteering, irqAffinityPath, listIrqs, steerIrqsOff } from "./knobs/irq-steering.js";
export {
  DEFAULT_KNOB_JOURNAL,
  type KnobEntry,
  KnobJournal,
  KnobJournalCorruptError,
  type RestoreFailure,
} from "./knobs/journal.js";
export {
  governorPath,
  liftRtThrottling,
  RT_RUNTIME_KNOB,
  setGovernors,
} from "./knobs/machine-knobs.js";
export {
  type BudgetStatus,
  type BudgetVerdict,
  defaultLatencyBudget,
  judgeLatency,
  type LatencyBudget,
} from "./latency/budget.js";
export {
  CyclictestOutputError,
  type CyclictestThread,
  parseCyclictestJson,
} from "./latency/cyclictest-json.js";
export { latencyHistogramSvg, type PlotOptions, type PlotSeries } from "./latency/plot-svg.js";
export { latencyHistogramText } from "./latency/plot-text.js";
export {
  type CpuLatency,
  cpuLatencyOf,
  type HistogramBuckets,
  histogramPercentile,
  type LatencyReport,
  type LatencySettings,
  latencyReportOf,
  sparseHistogram,
} from "./latency/report.js";
export {
  defaultLatencyCpus,
  LATENCY_TEST_DEFAULTS,
  LatencyTestAbortedError,
  type LatencyTestOptions,
  latencySettingsOf,
  runLatencyTest,
} from "./latency/run.js";
export {
  NoLatencyBudgetError,
  type VerifyOptions,
  type VerifyResult,
  verifyLatency,
} from "./latency/verify.js";
export {
  PROFILE_NAMES,
  PROFILES,
  type ProfileName,
  REALTIME_SPEC_SCHEMA,
  type RealtimeProfile,
  type RealtimeSpec,
} from "./profiles/profiles.js";
export {
  type RealtimeAttributes,
  RealtimeSpecError,
  resolveRealtimeSpec,
} from "./profiles/resolution.js";
