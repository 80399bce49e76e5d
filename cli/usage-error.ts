import { CliError } from "./cli-error.js";
/** The command line itself is wrong (bad value, missing argument): exit status 2. */
export class UsageError extends CliError {
  readonly code = "E_USAGE";
}
