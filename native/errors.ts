import { CodedError } from "../common/errors.js";

/**
 * The base of native's own errors, each with a stable `code` (docs/errors.md); a failed
 * syscall is a `NativeSystemError` instead, `code` its errno name. `CpuListSyntaxError`,
 * `UnknownSyscallError` (TypeErrors), `CpuNotOnlineError` (a RangeError) and
 * `LatencyProbeAbortedError` (an `AbortError`) derive from common's bases for those.
 */
export abstract class NativeError extends CodedError {}

/** The compiled addon could not be loaded (not built, or built for another arch). */
export class NativeAddonMissingError extends NativeError {
  readonly code = "E_NATIVE_MISSING";
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message.split("\n")[0] : String(cause);
    super(
      `native addon not loadable at ${path} (${reason}); build it with 'npm run build:native' (needs g++, make, python3)`,
      { cause },
    );
  }
}

/** A syscall failed inside the addon; shaped like Node's own system errors. */
export interface NativeSystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
}

export function isNativeSystemError(err: unknown): err is NativeSystemError {
  return err instanceof Error && typeof (err as Partial<NativeSystemError>).syscall === "string";
}
