export {
  Backoff,
  type BackoffOptions,
  backoffCeiling,
  backoffDelay,
  type Jitter,
} from "./backoff.js";
export {
  DURATION_PATTERN,
  DurationSyntaxError,
  isDuration,
  parseDuration,
} from "./duration.js";
export {
  CodedAbortError,
  CodedError,
  CodedRangeError,
  CodedTypeError,
  hasCode,
} from "./errors.js";
export {
  type FaultProxy,
  type FaultProxyOptions,
  startFaultProxy,
} from "./fault-proxy.js";
export { InstantSyntaxError, MAX_INSTANT_MS, parseInstant } from "./instant.js";
export { type Logger, silentLogger } from "./logger.js";
export { devId, type MountEntry, parseMountinfo, parseMounts } from "./mount-table.js";
export { seededRandom } from "./seeded-random.js";
export { type Align, renderTable, type TableOptions } from "./table.js";
