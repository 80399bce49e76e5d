import { CommanderError } from "commander";
import { hasCode } from "../common/errors.js";
import { commands } from "./commands/index.js";
import { errorLine } from "./error-hints.js";
import type { CliIo } from "./io.js";
import { buildProgram } from "./program.js";
import { selectCommands } from "./select-commands.js";

export const EXIT_USAGE = 2;

/**
 * Runs one command line and returns the exit status. Errors become one line on stderr:
 * usage errors exit 2, failures with a stable `code` exit 1 with their message, the code
 * and, where one is known, what to do (error-hints.ts), and
 * anything unexpected exits 1 naming it an internal error (stack with OUTPOST_DEBUG=1).
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const program = buildProgram(io, await selectCommands(argv, commands));
    await program.parseAsync(argv as string[], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed its one line; help and version end here too.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (hasCode(err, "E_USAGE")) {
      io.stderr.write(`outpost: ${err.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr.write(`outpost: ${describe(err)}\n`);
    if (process.env.OUTPOST_DEBUG === "1" && err instanceof Error)
      io.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const line = err.message.split("\n")[0] ?? err.message;
    return "code" in err && typeof err.code === "string"
      ? errorLine(line, err.code)
      : `internal error: ${line}`;
  }
  return `internal error: ${String(err)}`;
}
