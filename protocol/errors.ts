import { CodedError } from "../common/errors.js";

/**
 * Every failure the protocol raises on purpose has its own class and a stable `code`
 * (listed in docs/errors.md); callers match on `code`, never on the message.
 */
export abstract class ProtocolError extends CodedError {}

/** A CURVE key is not 40 characters of Z85 (32 bytes). */
export class KeyFormatError extends ProtocolError {
  readonly code = "E_PROTOCOL_KEY";
}

/** A frame or message is larger than the configured limit. */
export class MessageTooLargeError extends ProtocolError {
  readonly code = "E_PROTOCOL_TOO_LARGE";
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`message of ${bytes} bytes exceeds the ${limit}-byte limit`);
  }
}

/** A message is not one well-formed CBOR item, or its frames are not shaped as the protocol says. */
export class MessageDecodeError extends ProtocolError {
  readonly code = "E_PROTOCOL_DECODE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A decoded message does not match its JSON Schema, names an unknown type or an
 * unsupported protocol version. `id` is the request id when one could be read, so the
 * sender can be told which request was refused.
 */
export class MessageInvalidError extends ProtocolError {
  readonly code = "E_PROTOCOL_INVALID";
  constructor(
    message: string,
    readonly id: number | undefined,
  ) {
    super(message);
  }
}

/** The message's authenticator does not prove it came from the node it names. */
export class MessageAuthError extends ProtocolError {
  readonly code = "E_PROTOCOL_AUTH";
  constructor(
    message: string,
    readonly id: number | undefined,
  ) {
    super(message);
  }
}

/** No reply arrived in time; `handshake` says why the link is down when ZeroMQ told us. */
export class RequestTimeoutError extends ProtocolError {
  readonly code = "E_PROTOCOL_TIMEOUT";
  constructor(
    readonly type: string,
    readonly timeoutMs: number,
    readonly handshake: string | undefined,
  ) {
    super(
      `no reply from the master to '${type}' within ${timeoutMs} ms${handshake ? ` (last handshake: ${handshake})` : ""}`,
    );
  }
}

/** The link was closed while a request was waiting, or used after close. */
export class LinkClosedError extends ProtocolError {
  readonly code = "E_PROTOCOL_CLOSED";
  constructor() {
    super("protocol link is closed");
  }
}

/**
 * The link moved to another master while this request waited for its reply, and it is not
 * one the link resends by itself (`report`): the old master may or may not have applied
 * it. Retryable: send it again, the link now reaches another master.
 */
export class LinkFailoverError extends ProtocolError {
  readonly code = "E_PROTOCOL_FAILOVER";
  constructor(
    readonly type: string,
    readonly from: string,
  ) {
    super(`the link left master ${from} while '${type}' waited for its reply; send it again`);
  }
}

/** A link's master endpoints or options are unusable; the message names the entry. */
export class LinkConfigError extends ProtocolError {
  readonly code = "E_PROTOCOL_CONFIG";
}

/** The master answered a request with an error reply; `remoteCode` is the master's code. */
export class RemoteError extends ProtocolError {
  readonly code = "E_PROTOCOL_REMOTE";
  constructor(
    readonly remoteCode: string,
    message: string,
  ) {
    super(`master refused the request: ${message} (${remoteCode})`);
  }
}

/** The master's ROUTER cannot bind its endpoint (address in use, unknown interface). */
export class ListenError extends ProtocolError {
  readonly code = "E_PROTOCOL_LISTEN";
  constructor(
    readonly endpoint: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot listen for nodes on ${endpoint}: ${reason}`, options);
  }
}
