/** The compiled addon could not be loaded (not built, or built for another arch). */
export class NativeAddonMissingError extends Error {
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
    this.name = "NativeAddonMissingError";
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
