/** The command line itself is wrong (bad value, missing argument): exit status 2. */
export class UsageError extends Error {
  readonly code = "E_USAGE";
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
