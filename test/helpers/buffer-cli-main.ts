import { CommanderError } from "commander";
import { registerBuffer } from "../../cli/commands/buffer.js";
import { processIo } from "../../cli/io.js";
import { buildProgram } from "../../cli/program.js";

/**
 * `outpost` with only the `buffer` command registered — the same command code, program
 * and exit codes as cli/main.ts — so fault tests that start it hundreds of times pay
 * neither for other components' imports nor for their output.
 */
const io = processIo();
try {
  await buildProgram(io, [registerBuffer]).parseAsync(process.argv.slice(2), { from: "user" });
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
  else {
    io.stderr.write(`outpost: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
