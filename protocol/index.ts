export { decodeFrame, encodeMessage } from "./codec.js";
export {
  KeyFormatError,
  LinkClosedError,
  ListenError,
  MessageAuthError,
  MessageDecodeError,
  MessageInvalidError,
  MessageTooLargeError,
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
  DEFAULT_HEARTBEAT,
  DEFAULT_LIMITS,
  type HeartbeatOptions,
  type LinkLimits,
} from "./limits.js";
export type { ProtocolLogger } from "./log.js";
export { AUTHENTICATOR_BYTES, authenticate, deriveLinkKey } from "./message-auth.js";
export type {
  Ack,
  BufferBacklog,
  DesiredInstance,
  DesiredState,
  ErrorReply,
  Hello,
  InstanceLimits,
  InstanceReport,
  InstanceRequestSpec,
  InstanceSecrets,
  InstanceStatus,
  MasterReply,
  NodeRequest,
  PromiseResult,
  RejectedInstance,
  Report,
  RequestBody,
  RequestedInstance,
  RequestedState,
  SyncRequest,
  TelemetryChunk,
  TelemetryLoss,
  UsageReport,
  Welcome,
} from "./messages.js";
export { PROTOCOL_VERSION } from "./messages.js";
export { type ChunkToSend, type LossToSend, NodeLink, type NodeLinkOptions } from "./node-link.js";
export {
  instanceReportSchema,
  masterReplySchemas,
  nodeRequestSchemas,
  REPORT_TEXT_MAX,
} from "./schemas.js";
export {
  ProtocolServer,
  type ProtocolServerOptions,
  type RejectReason,
  type ReplyBody,
  type ServerObserver,
  ZAP_DOMAIN,
} from "./server.js";
export { TelemetrySink, type TelemetrySinkStats } from "./telemetry-sink.js";
export {
  cborAjv,
  validateInstanceReports,
  validateMasterReply,
  validateNodeRequest,
} from "./validate.js";
