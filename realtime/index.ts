export { type AuditCheck, type AuditStatus, auditChecks, auditVerdict } from "./audit-checks.js";
export { type AuditInputs, readAuditInputs } from "./audit-inputs.js";
export {
  assignCores,
  CoreOvercommitError,
  type CorePlan,
  claimCores,
  emptyCorePlan,
  releaseCores,
  sharedCpus,
  unassignedCores,
} from "./core-planner.js";
export { CPU_DMA_LATENCY, type CpuDmaLatencyHold, holdCpuDmaLatency } from "./cpu-dma-latency.js";
export {
  CpusetConflictError,
  checkRtPartition,
  createRtPartition,
  type IsolateOptions,
  isolateCpus,
  releaseRtPartition,
} from "./cpu-partition.js";
export {
  CyclictestOutputError,
  type CyclictestThread,
  parseCyclictestJson,
} from "./cyclictest-json.js";
export { type IrqSteering, irqAffinityPath, listIrqs, steerIrqsOff } from "./irq-steering.js";
export {
  DEFAULT_KNOB_JOURNAL,
  type KnobEntry,
  KnobJournal,
  KnobJournalCorruptError,
  type RestoreFailure,
} from "./knob-journal.js";
export {
  type BudgetStatus,
  type BudgetVerdict,
  defaultLatencyBudget,
  judgeLatency,
  type LatencyBudget,
} from "./latency-budget.js";
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
export { latencyHistogramText } from "./latency-text.js";
export {
  NoLatencyBudgetError,
  type VerifyOptions,
  type VerifyResult,
  verifyLatency,
} from "./latency-verify.js";
export { governorPath, liftRtThrottling, RT_RUNTIME_KNOB, setGovernors } from "./machine-knobs.js";
export {
  type RealtimeAttributes,
  RealtimeSpecError,
  resolveRealtimeSpec,
} from "./profile-resolution.js";
export {
  PROFILE_NAMES,
  PROFILES,
  type ProfileName,
  REALTIME_SPEC_SCHEMA,
  type RealtimeProfile,
  type RealtimeSpec,
} from "./profiles.js";
