export { type AgentOptions, type RunningAgent, startAgent } from "./agent.js";
export {
  type HostCheck,
  type HostCheckStatus,
  hostChecks,
  hostVerdict,
} from "./audit/audit-checks.js";
export { type HostAuditInputs, readHostAuditInputs } from "./audit/audit-inputs.js";
export {
  Converger,
  type ConvergerOptions,
  type DesiredSnapshot,
  type ReportBatch,
} from "./converge/converger.js";
export {
  DEPLOY_PROMISE,
  type InstanceFacts,
  instanceReport,
  REQUESTS_PROMISE,
} from "./converge/instance-report.js";
export { type AgentNaming, Journal, type JournalEntry } from "./converge/journal.js";
export {
  type ActualView,
  type DesiredView,
  type InstanceAction,
  instanceKey,
  planInstances,
} from "./converge/plan.js";
export { type Readiness, requestsReadiness } from "./converge/requests-readiness.js";
export { REPORT_HEARTBEAT_MS, SyncLoop, type SyncLoopOptions } from "./converge/sync-loop.js";
export { UsageMeter } from "./converge/usage-meter.js";
export { type AgentPaths, agentPaths, checkTraversable, openAgentDataDir } from "./data-dir.js";
export * from "./errors.js";
export {
  type Owner,
  type WriteBeneathOptions,
  writeFileBeneath,
} from "./files/write-beneath.js";
export { loadOrCreateIdentity } from "./identity.js";
export {
  InstanceRuntime,
  type InstanceRuntimeOptions,
  logFileOf,
} from "./instances/instance-runtime.js";
export {
  type RenderedFile,
  type RenderedInstance,
  type RenderedProcess,
  type RenderedPromise,
  renderInstance,
} from "./instances/render.js";
export { instanceVars, renderRequests } from "./instances/render-requests.js";
export { InstanceFileError, writeInstanceFiles } from "./instances/write-files.js";
export {
  type LimitWords,
  limitSettingsOf,
  limitsConfigSchema,
  mergeLimitWords,
  parseLimitFlag,
} from "./limit-settings.js";
export {
  type AgentLimits,
  defaultLimits,
  type InstanceDefaultLimits,
  type LimitSettings,
  resolveLimits,
  type WorkloadLimits,
} from "./limits.js";
export { PartitionBacklog } from "./local-api/backlog.js";
export {
  LocalApiBusyError,
  LocalApiInvalidError,
  RelayRefusedError,
  RelayUnavailableError,
} from "./local-api/errors.js";
export {
  LOCAL_API_STATUS,
  LocalApi,
  type LocalApiInstance,
  type LocalApiTelemetry,
  MAX_TELEMETRY_IN_FLIGHT,
} from "./local-api/local-api.js";
export { LocalApiSink } from "./local-api/local-api-sink.js";
export {
  backlogOfQuery,
  chunkOfQuery,
  chunkQuery,
  chunkQuerySchema,
  EPOCH_SPAN,
  LOCAL_ID_SPAN,
  lossBodySchema,
  MAX_TELEMETRY_BODY,
  partitionIdOf,
  relayedId,
} from "./local-api/telemetry-body.js";
export {
  relayError,
  TelemetryRelay,
  type TelemetryUplink,
} from "./local-api/telemetry-relay.js";
export type { AgentMetrics, AgentMetricsSource } from "./metrics.js";
export {
  buildsGroupName,
  DEFAULT_DATA_DIRS,
  derivedPrefix,
  partitionsGroupName,
} from "./naming.js";
export { openOrCreateChild, removeCgroupTree } from "./partitions/cgroup-child.js";
export {
  MAX_PARTITIONS,
  type PartitionLayout,
  type PartitionNaming,
  partitionLayout,
} from "./partitions/partition-layout.js";
export {
  ensurePartition,
  ensurePartitions,
  type Partition,
  type PartitionOptions,
  removePartition,
  resetPartition,
} from "./partitions/partitions.js";
export { ensureSystemUser, removeSystemUser } from "./partitions/system-user.js";
export { type Probe, type ProbeOutcome, runProbe } from "./promises/probe.js";
export {
  type PromiseCheck,
  PromiseChecker,
  type PromiseCheckerOptions,
  type SelfRepair,
} from "./promises/promise-checker.js";
export { type InstanceRealtimeView, instanceRealtimeOf } from "./rt/verify-target.js";
export {
  type AgentConfigFile,
  type AgentSettings,
  type AgentSettingsInput,
  agentConfigSchema,
  camelKeys,
  kebabKeys,
  masterEndpoints,
  resolveAgentSettings,
} from "./settings.js";
export {
  type BuildAccount,
  buildAccountPattern,
  listBuildAccounts,
} from "./software/build-account.js";
export type {
  FetchSpec,
  FileSpec,
  InstanceSpec,
  ProcessSpec,
  PromiseSpec,
  RestartPolicy,
  SoftwareDescriptor,
} from "./software/descriptor.js";
export { descriptorReference } from "./software/descriptor-reference.js";
export { descriptorSchema } from "./software/descriptor-schema.js";
export {
  type InstalledSoftware,
  type InstallOptions,
  installedDescriptor,
  installPaths,
  installSoftware,
  listInstalled,
  removeInterruptedInstalls,
  softwareId,
} from "./software/install.js";
export { normaliseInstalledTree } from "./software/normalise-tree.js";
export { parseDescriptor, validateParameters } from "./software/parse-descriptor.js";
export {
  reportedSecretKeys,
  requestSecretKeys,
  SECRET_KEYWORD,
  type SecretKeys,
  secretKeys,
  secretParameters,
  secretProblems,
} from "./software/secret-parameters.js";
export {
  DEFAULT_INSTALL_BACKOFF,
  type InstallFailure,
  SoftwareStore,
} from "./software/software-store.js";
export type { SourceAccess } from "./software/source.js";
export {
  DEFAULT_LOG_ROTATION,
  type LogRotation,
  rotateLog,
} from "./supervisor/log-rotation.js";
export {
  identityOf,
  isAlive,
  type ProcessIdentity,
  startTicksOf,
} from "./supervisor/process-identity.js";
export { shouldRestart } from "./supervisor/restart-policy.js";
export {
  type ProcessLaunch,
  type ProcessState,
  SupervisedProcess,
  type SupervisionOptions,
} from "./supervisor/supervised-process.js";
export { renderTemplate, type TemplateVars } from "./template.js";
export { agentAccounts, type Uninstalled, uninstallAgent } from "./uninstall.js";
