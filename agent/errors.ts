import { CodedError } from "../common/errors.js";

/**
 * Every failure the agent raises on purpose has its own class and a stable `code`
 * (listed in docs/errors.md). Match on `code` (`hasCode`), never on the message.
 */
export abstract class AgentError extends CodedError {}

/** The agent's data directory or a file in it is unusable (unreadable key, wrong mode). */
export class AgentDataDirError extends AgentError {
  override readonly code = "E_AGENT_DATA_DIR";
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** The agent's settings contradict each other or name something unusable. */
export class AgentConfigError extends AgentError {
  override readonly code = "E_AGENT_CONFIG";
}

/** A partition could not be created or removed; `partition` names it, `step` says what failed. */
export class PartitionError extends AgentError {
  override readonly code = "E_AGENT_PARTITION";
  constructor(
    readonly partition: number,
    readonly step: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`partition ${partition}: ${step}: ${reason}`, options);
  }
}

/** A write or read below a directory was refused or failed; `path` names the file. */
export class BeneathError extends AgentError {
  override readonly code = "E_AGENT_PATH";
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: { cause: unknown },
  ) {
    super(`${path}: ${reason}`, options);
  }
}

/** A software descriptor is unreadable, not YAML, or does not match the descriptor schema. */
export class DescriptorError extends AgentError {
  override readonly code = "E_AGENT_DESCRIPTOR";
  constructor(
    readonly url: string,
    readonly issues: readonly string[],
  ) {
    super(`software descriptor ${url}: ${issues.join("; ")}`);
  }
}

/** A fetched file's sha256 differs from the descriptor's; nothing of it is kept. */
export class ChecksumMismatchError extends AgentError {
  override readonly code = "E_AGENT_SHA256";
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`sha256 mismatch for ${url}: expected ${expected}, got ${actual}`);
  }
}

/** A source could not be fetched (missing file, HTTP error, unsupported scheme). */
export class FetchError extends AgentError {
  override readonly code = "E_AGENT_FETCH";
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`cannot fetch ${url}: ${reason}`);
  }
}

/** A build step failed; `logTail` holds the last lines of its output. Nothing was kept. */
export class BuildFailedError extends AgentError {
  override readonly code = "E_AGENT_BUILD";
  constructor(
    readonly software: string,
    readonly step: string,
    reason: string,
    readonly logTail: string,
  ) {
    super(`build of ${software} failed at ${step}: ${reason}${logTail ? `\n${logTail}` : ""}`);
  }
}

/** A `{{name}}` in a descriptor names no template variable. */
export class TemplateError extends AgentError {
  override readonly code = "E_AGENT_TEMPLATE";
  constructor(
    readonly variable: string,
    readonly where: string,
  ) {
    super(`${where}: unknown template variable '{{${variable}}}'`);
  }
}

/** Request parameters do not match the descriptor's parameters schema. */
export class ParametersError extends AgentError {
  override readonly code = "E_AGENT_PARAMETERS";
  constructor(
    readonly instance: string,
    readonly issues: readonly string[],
  ) {
    super(`instance ${instance}: bad parameters: ${issues.join("; ")}`);
  }
}

/**
 * A descriptor would expose a secret parameter (`x-outpost-secret`): in a command line,
 * a promise's target, a file name or a file others may read. `issues` name each place.
 */
export class SecretExposedError extends AgentError {
  override readonly code = "E_AGENT_SECRET";
  constructor(
    readonly url: string,
    readonly issues: readonly string[],
  ) {
    super(`software descriptor ${url}: ${issues.join("; ")}`);
  }
}

/**
 * The agent's local API refused a request of a partition's LocalApiSink or answered
 * something unreadable; `status` is the HTTP status (0 when no answer was read).
 */
export class LocalApiError extends AgentError {
  override readonly code = "E_AGENT_LOCAL_API";
  constructor(
    readonly path: string,
    readonly status: number,
    reason: string,
  ) {
    super(`local API ${path}: ${status > 0 ? `${status} ` : ""}${reason}`);
  }
}

/** The box cannot give an instance the real time its profile asks for (no RT runtime, laptop mode). */
export class RealtimeSetupError extends AgentError {
  override readonly code = "E_AGENT_REALTIME";
  constructor(reason: string) {
    super(`real time: ${reason}`);
  }
}

/**
 * A partition's files take more than its disk limit, as the agent measured them (where
 * the data filesystem has no project quota): its instance is stopped until they no
 * longer do. The message of the instance's failed `disk` promise.
 */
export class DiskQuotaExceededError extends AgentError {
  override readonly code = "E_AGENT_DISK_QUOTA";
  constructor(
    readonly partition: number,
    readonly used: { bytes: number; inodes: number },
    readonly limit: { bytes: number; inodes: number },
  ) {
    const over =
      used.bytes > limit.bytes
        ? `${used.bytes} bytes on disk, over its limit of ${limit.bytes}`
        : `${used.inodes} files and directories, over its limit of ${limit.inodes}`;
    super(`partition ${partition} holds ${over}: instance stopped until its files are back under`);
  }
}

/** A project id the agent would give a partition is someone else's (files or limits it did not set). */
export class ProjectIdInUseError extends AgentError {
  override readonly code = "E_AGENT_PROJECT_ID";
  constructor(
    readonly id: number,
    readonly path: string,
    reason: string,
  ) {
    super(`project id ${id} for ${path} is in use (${reason}); not taken`);
  }
}
