import { CodedError } from "../common/errors.js";

/**
 * Every failure the master raises on purpose has its own class and a stable `code`
 * (listed in docs/errors.md). The HTTP API sends `{ error: { code, message } }` with the
 * status its table gives the code (`MASTER_HTTP_STATUS`, http-api.ts), and the client
 * turns it back into the same class.
 */

export abstract class MasterError extends CodedError {}

/** A node or instance named in a request does not exist. */
export class NotFoundError extends MasterError {
  override readonly code = "E_MASTER_NOT_FOUND";
}

/** The request contradicts the stored state (name or key taken, other software). */
export class ConflictError extends MasterError {
  override readonly code = "E_MASTER_CONFLICT";
}

/** No node can take the instance: software not supplied, no free partition or cores. */
export class NoCapacityError extends MasterError {
  override readonly code = "E_MASTER_NO_CAPACITY";
}

/** An API request body or query is malformed; the message names the field. */
export class InvalidRequestError extends MasterError {
  override readonly code = "E_MASTER_INVALID";
}

/** The admin token is missing or wrong. */
export class UnauthorizedError extends MasterError {
  override readonly code = "E_MASTER_UNAUTHORIZED";
  constructor() {
    super("admin token missing or wrong");
  }
}

/** A protocol message names a node key the master does not know (removed since the handshake). */
export class UnknownNodeError extends MasterError {
  override readonly code = "E_MASTER_UNKNOWN_NODE";
  constructor(key: string) {
    super(`no node is registered with key ${key}`);
  }
}

/** The data directory is unusable: wrong permissions on a secret, unreadable key. */
export class DataDirError extends MasterError {
  override readonly code = "E_MASTER_DATA_DIR";
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

/** The store was written by a newer master (schema version above the known ones). */
export class StoreVersionError extends MasterError {
  override readonly code = "E_MASTER_STORE_VERSION";
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(`store schema version ${found} is newer than this master supports (${known})`);
  }
}

/** The store's database cannot be used: unreachable, or it refused the login. */
export class StoreUnavailableError extends MasterError {
  override readonly code = "E_MASTER_STORE_UNAVAILABLE";
  constructor(
    /** The server's host:port or unix socket, never the password. */
    readonly where: string,
    reason: string,
  ) {
    super(`cannot use the PostgreSQL store at ${where} (${reason})`);
  }
}

/** The NATS servers of the fan-out cannot be used: unreachable, login refused, no JetStream. */
export class NatsUnavailableError extends MasterError {
  override readonly code = "E_MASTER_NATS_UNAVAILABLE";
  constructor(
    /** The servers' HOST:PORTs, never a token. */
    readonly servers: string[],
    reason: string,
  ) {
    super(`cannot use NATS at ${servers.join(",")} (${reason})`);
  }
}

/**
 * A record schema a producer announced is refused (partitions are not trusted): over
 * the size or nesting bound, not JSON or not an Avro schema, or not the schema its
 * fingerprint names. `reason` says which.
 */
export class SchemaRefusedError extends MasterError {
  override readonly code = "E_MASTER_SCHEMA";
  constructor(
    readonly reason: "too_large" | "too_deep" | "invalid" | "fingerprint",
    message: string,
  ) {
    super(`schema refused: ${message}`);
  }
}

/** The client cannot reach the master's HTTP API. */
export class MasterUnreachableError extends MasterError {
  override readonly code = "E_MASTER_UNREACHABLE";
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`cannot reach the master at ${url} (${reason})`);
  }
}

/** The master answered with something that is not the API's JSON (wrong URL, proxy). */
export class MasterResponseError extends MasterError {
  override readonly code = "E_MASTER_RESPONSE";
  constructor(
    readonly url: string,
    detail: string,
  ) {
    super(`unexpected answer from ${url}: ${detail}`);
  }
}

const BY_CODE: Record<string, (message: string) => MasterError> = {
  E_MASTER_NOT_FOUND: (m) => new NotFoundError(m),
  E_MASTER_CONFLICT: (m) => new ConflictError(m),
  E_MASTER_NO_CAPACITY: (m) => new NoCapacityError(m),
  E_MASTER_INVALID: (m) => new InvalidRequestError(m),
  E_MASTER_UNAUTHORIZED: () => new UnauthorizedError(),
};

/** The error class the API's `{ code, message }` came from, rebuilt on the client side. */
export function errorFromApi(code: string, message: string, url: string): MasterError {
  return BY_CODE[code]?.(message) ?? new MasterResponseError(url, `${code}: ${message}`);
}
