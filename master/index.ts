export { placeInstance } from "./allocation.js";
export {
  type ChunkInfo,
  MasterClient,
  type ReadingsAnswer,
  type ReadingsParamsInput,
  type ReadingsSeries,
  readingsSearch,
  type TelemetryAnswer,
} from "./client.js";
export { LAST_SEEN_FLUSH_MS } from "./control.js";
export {
  KEY_FILE,
  type MasterDataDir,
  masterPublicKey,
  openDataDir,
  TOKEN_FILE,
} from "./data-dir.js";
export * from "./errors.js";
export {
  type FollowedMessage,
  type FollowOptions,
  followTelemetry,
} from "./fanout/follow.js";
export {
  checkNkeySeed,
  type NatsLogin,
  type NatsOptions,
  parseNatsServers,
} from "./fanout/nats-options.js";
export type { PublisherOptions } from "./fanout/outbox-publisher.js";
export {
  messageId,
  nameOfToken,
  nodeSubjects,
  STREAM_SUBJECTS,
  subjectToken,
  TELEMETRY_STREAM,
  telemetrySubject,
} from "./fanout/subjects.js";
export {
  MAX_MESSAGE_BYTES,
  MESSAGE_VERSION,
  readTelemetryMessage,
  type TelemetryMessage,
  telemetryMessages,
} from "./fanout/telemetry-message.js";
export { HttpApi, type HttpApiOptions, MASTER_HTTP_STATUS } from "./http-api.js";
export { TelemetryIngest } from "./ingest.js";
export {
  type InstanceState,
  type InstanceView,
  instanceState,
  withState,
} from "./instance-state.js";
export {
  DEFAULT_DEDUPE_WINDOW_MS,
  DEFAULT_HTTP,
  DEFAULT_LISTEN,
  type MasterNatsOptions,
  type MasterOptions,
  MIN_DEDUPE_WINDOW_MS,
  parseHttpAddress,
  type RunningMaster,
  startMaster,
} from "./master.js";
export { MasterMetrics } from "./metrics.js";
export { openStore, parseStoreOption, type StoreChoice } from "./open-store.js";
export { childName, Orchestrator } from "./orchestration.js";
export { PgStore } from "./postgres/pg-store.js";
export {
  EXPORT_FORMATS,
  type ExportFormat,
  type ExportOptions,
  exportReadings,
  readingsOf,
} from "./readings/export.js";
export { ndjsonReadings } from "./readings/ndjson-format.js";
export type { Reading } from "./readings/reading.js";
export type { ReadingGap } from "./readings/reading-gaps.js";
export {
  type JsonValue,
  jsonValue,
  type ValueType,
  valueFromJson,
} from "./readings/reading-values.js";
export {
  FOREVER,
  KEEP_EVERYTHING,
  parseRetention,
  type RetentionPolicy,
  type StreamRetention,
} from "./readings/retention-policy.js";
export { maskSecrets, SECRET_MASK } from "./secrets.js";
export { SqliteStore } from "./sqlite/sqlite-store.js";
export { STATUS_PAGE_HTML } from "./status/status-page.js";
export {
  type NodePresence,
  ONLINE_WITHIN_MS,
  type StatusSnapshot,
  statusSnapshot,
  type TelemetrySource,
} from "./status/status-snapshot.js";
export {
  type NodeBacklog,
  type NodeTelemetry,
  type TelemetryStatus,
  THROUGHPUT_WINDOW_MS,
} from "./status/telemetry-status.js";
export { TelemetryView } from "./status/telemetry-view.js";
export type * from "./store.js";
export { isPlaced } from "./store.js";
export { findGaps, type SequenceGap } from "./telemetry-gaps.js";
