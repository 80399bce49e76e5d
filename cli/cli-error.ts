import { CodedError } from "../common/errors.js";

/** The base of the CLI's own errors (`UsageError`, `ConfigError`), each with a stable `code`. */
export abstract class CliError extends CodedError {}
