import { CodedError } from "../common/errors.js";

/**
 * Every failure the buffer raises on purpose has its own class and a stable `code`;
 * callers match on `code` (listed in docs/errors.md), never on the message.
 */
export abstract class BufferError extends CodedError {}

/** The buffer (or the disk under it) has no room for an append. */
export class BufferFullError extends BufferError {
  readonly code = "E_BUFFER_FULL";
  constructor(
    readonly stream: string,
    /** `limit`: the configured byte/chunk budget; `disk`: the file system said ENOSPC. */
    readonly reason: "limit" | "disk",
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`buffer full for stream '${stream}' (${detail})`, options);
  }
}

/** Another live process holds the buffer directory. */
export class BufferLockedError extends BufferError {
  readonly code = "E_BUFFER_LOCKED";
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`buffer directory ${dir} is in use by process ${pid}`);
  }
}

/** A caller passed something the buffer cannot store (bad stream name, oversized record). */
export class BufferInputError extends BufferError {
  readonly code = "E_BUFFER_INPUT";
}

/** The buffer was closed; appends and sends after close fail with this. */
export class BufferClosedError extends BufferError {
  readonly code = "E_BUFFER_CLOSED";
  constructor() {
    super("buffer is closed");
  }
}

/** A sink did not acknowledge a chunk in time; the forwarder retries it. */
export class SinkTimeoutError extends BufferError {
  readonly code = "E_SINK_TIMEOUT";
  constructor(readonly timeoutMs: number) {
    super(`sink did not acknowledge within ${timeoutMs} ms`);
  }
}

/** ENOSPC and EDQUOT become a `BufferFullError` (reason `disk`); other errors pass through. */
export function diskFullAsBufferFull(err: unknown, stream: string, dir: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new BufferFullError(stream, "disk", `${code} writing ${dir}`, { cause: err });
  }
  return err;
}
