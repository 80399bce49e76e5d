import type { Command } from "commander";
import type { CliIo } from "./io.js";

/** Every state-reporting command takes the same flag, spelt and described the same way. */
export function withJsonOption(command: Command): Command {
  return command.option("--json", "print one JSON document on stdout instead of text");
}

/**
 * Prints a command's state: one JSON document (and nothing else) on stdout with
 * `--json`, otherwise the human rendering. bigint values print as decimal strings so
 * 64-bit counters stay exact.
 */
export function printState<T>(
  io: CliIo,
  options: { json?: boolean },
  state: T,
  human: (state: T) => string,
): void {
  if (options.json) {
    io.stdout.write(
      `${JSON.stringify(state, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`,
    );
  } else {
    const text = human(state);
    io.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  }
}
