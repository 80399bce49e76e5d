/**
 * The one shape of every error Outpost raises on purpose (docs/errors.md): a class with a
 * stable `code` callers match on, and the class's own name as `name`, set here once so
 * no error class sets it by hand. Each component derives its base (`AgentError`,
 * `BufferError`, …) from `CodedError`; the few documented as a TypeError or RangeError
 * derive from `CodedTypeError` / `CodedRangeError`, aborts from `CodedAbortError`.
 */

// A mixin's constructor must take `any[]` (TS2545); the typed constructors are below.
// biome-ignore lint/suspicious/noExplicitAny: see above
type ErrorClass = abstract new (...args: any[]) => Error;

function coded<B extends ErrorClass>(Base: B) {
  abstract class Coded extends Base {
    abstract readonly code: string;
    // biome-ignore lint/suspicious/noExplicitAny: a mixin's constructor (TS2545)
    constructor(...args: any[]) {
      super(...args);
      this.name = new.target.name;
    }
  }
  return Coded;
}

export abstract class CodedError extends coded(Error) {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export abstract class CodedTypeError extends coded(TypeError) {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export abstract class CodedRangeError extends coded(RangeError) {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * An abort through an `AbortSignal`: `code` `ABORT_ERR` and `name` `AbortError`, as
 * Node's own, so one check catches both.
 */
export abstract class CodedAbortError extends CodedError {
  readonly code = "ABORT_ERR";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AbortError";
  }
}

/**
 * How callers match an error: true when `err` is an Error whose `code` is one of
 * `codes`. Name the class to read its fields, `hasCode<BeneathError>(err, "E_AGENT_PATH")`:
 * the code is then checked against the class's own.
 */
export function hasCode<E extends { readonly code: string } = Error & { readonly code: string }>(
  err: unknown,
  ...codes: E["code"][]
): err is E {
  return err instanceof Error && codes.includes((err as { code?: unknown }).code as E["code"]);
}
