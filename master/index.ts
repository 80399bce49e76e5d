export { placeInstance } from "./allocation.js";
export { type ChunkInfo, MasterClient, type TelemetryAnswer } from "./client.js";
export { type MasterDataDir, masterPublicKey, openDataDir, TOKEN_FILE } from "./data-dir.js";
export * from "./errors.js";
export { HttpApi, type HttpApiOptions, MASTER_HTTP_STATUS } from "./http-api.js";
export { TelemetryIngest } from "./ingest.js";
export {
  type InstanceState,
  type InstanceView,
  instanceState,
  withState,
} from "./instance-state.js";
export {
  DEFAULT_HTTP,
  DEFAULT_LISTEN,
  type MasterOptions,
  parseHttpAddress,
  type RunningMaster,
  startMaster,
} from "./master.js";
export { MasterMetrics } from "./metrics.js";
export { childName, Orchestrator } from "./orchestration.js";
export { maskSecrets, SECRET_MASK } from "./secrets.js";
export { SqliteStore } from "./sqlite/sqlite-store.js";
export { STATUS_PAGE_HTML } from "./status/status-page.js";
export {
  type NodePresence,
  ONLINE_WITHIN_MS,
  type StatusSnapshot,
  statusSnapshot,
} from "./status/status-snapshot.js";
export {
  type SeriesView,
  type TagPoint,
  type TelemetryDecoder,
  type TelemetryStatus,
  TelemetryView,
} from "./status/telemetry-view.js";
export type * from "./store.js";
export { isPlaced } from "./store.js";
export { findGaps, type SequenceGap } from "./telemetry-gaps.js";
