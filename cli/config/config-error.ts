import { CliError } from "../cli-error.js";
/** One problem found in a config file, located in the file. */
export interface ConfigIssue {
  /** Dotted path of the offending key, e.g. `devices[0].interval`; empty for the whole document. */
  key: string;
  /** 1-based; 0 when the problem has no place in the text (e.g. the file is unreadable). */
  line: number;
  column: number;
  message: string;
}

/**
 * A config file is unreadable, not YAML, or does not match its schema. The message is
 * one line naming the file, the line and the key, so it can go straight to stderr.
 */
export class ConfigError extends CliError {
  readonly code = "E_CONFIG";
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    const [first] = issues;
    const where = first && first.line > 0 ? `${file}:${first.line}:${first.column}` : file;
    const key = first?.key ? ` ${first.key}:` : "";
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    super(`${where}:${key} ${first?.message ?? "invalid"}${more}`);
  }
}
