import type { CommandModule } from "./commands/index.js";
import type { RegisterCommand } from "./program.js";

/** Global options that take a value, so the word after them is not a command name. */
const OPTIONS_WITH_VALUE = new Set(["--log-level", "--log-format"]);

/** The first word of the command line that is not a global option or its value. */
export function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") return argv[i + 1];
    if (OPTIONS_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

/**
 * Loads only the command the line names. Everything loads when there is none to pick —
 * top-level help lists every command, and an unknown word needs them all for commander's
 * "did you mean" — except for a bare `--version`, which needs no command at all.
 */
export async function selectCommands(
  argv: readonly string[],
  modules: readonly CommandModule[],
): Promise<RegisterCommand[]> {
  const word = commandWord(argv);
  const named = modules.find((module) => module.name === word);
  if (named) return [await named.load()];
  if (word === undefined && argv.some((arg) => arg === "-V" || arg === "--version")) return [];
  return Promise.all(modules.map((module) => module.load()));
}
