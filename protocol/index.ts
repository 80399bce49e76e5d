export { decodeFrame, encodeMessage } from "./codec.js";
export type { FailoverEvent } from "./connection-keeper.js";
export {
  MAX_ENDPOINTS,
  type MasterEndpoint,
  parseEndpointList,
  type Resolve,
} from "./endpoints.js";
export {
  KeyFormatError,
  LinkClosedError,
  LinkConfigError,
  LinkFailoverError,
  ListenError,
  MessageAuthError,
  MessageDecodeError,
  MessageInvalidError,
  MessageTooLargeError,
  ProtocolError,
  RemoteError,
  RequestTimeoutError,
} from "./errors.js";
export {
  decodeKey,
  encodeKey,
  generateKeyPair,
  isKeyText,
  KEY_TEXT_LENGTH,
  type KeyPair,
  publicKeyOf,
} from "./keys.js";
export {
  DEFAULT_FAILOVER,
  DEFAULT_HEARTBEAT,
  DEFAULT_LIMITS,
  FAILOVER_HEARTBEAT,
  type FailoverOptions,
  type HeartbeatOptions,
  type LinkLimits,
} from "./limits.js";
export {
  AUTHENTICATOR_BYTES,
  authenticate,
  authenticatePush,
  deriveLinkKey,
} from "./message-auth.js";
export type {
  Ack,
  Backlog,
  BufferBacklog,
  Chunk,
  DesiredInstance,
  DesiredState,
  ErrorReply,
  Hello,
  InstanceLimits,
  InstanceReport,
  InstanceRequestSpec,
  InstanceSecrets,
  InstanceStatus,
  Loss,
  MasterPush,
  MasterReply,
  NodeRequest,
  PromiseResult,
  ProtocolVersion,
  RejectedInstance,
  Report,
  RequestBody,
  RequestedInstance,
  RequestedState,
  SchemaAnnouncement,
  SyncRequest,
  TelemetryChunk,
  TelemetryLoss,
  TelemetrySchema,
  UsageReport,
  Wake,
  Welcome,
} from "./messages.js";
export { PROTOCOL_VERSION, PUSH_SINCE_VERSION, SUPPORTED_VERSIONS } from "./messages.js";
export { NodeLink, type NodeLinkOptions } from "./node-link.js";
export {
  CHUNK_REQUIRED,
  chunkFields,
  instanceReportSchema,
  LOSS_REQUIRED,
  lossFields,
  masterPushSchemas,
  masterReplySchemas,
  nodeRequestSchemas,
  REPORT_TEXT_MAX,
  SCHEMA_TEXT_MAX,
  schemaFields,
} from "./schemas.js";
export {
  ProtocolServer,
  type ProtocolServerOptions,
  type RejectReason,
  type ReplyBody,
  type ServerObserver,
  ZAP_DOMAIN,
} from "./server.js";
export { SCHEMA_REFUSED, TelemetrySink, type TelemetrySinkStats } from "./telemetry-sink.js";
export {
  validateInstanceReports,
  validateMasterPush,
  validateMasterReply,
  validateNodeRequest,
} from "./validate.js";
