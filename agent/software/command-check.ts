import { statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { resolveCommand } from "../../native/index.js";
import { DescriptorError } from "../errors.js";
import { renderTemplate, type TemplateVars } from "../template.js";
import type { SoftwareDescriptor } from "./descriptor.js";

/** The PATH every process and build runs with (unless its `env` sets another). */
export const PROCESS_PATH = "/usr/local/bin:/usr/bin:/bin";

/**
 * Why `command` would not start, or undefined when it would: an absolute path must be
 * an executable regular file, a bare name must be found on `path`. A relative path with
 * a slash runs from the partition directory, which the instance itself may fill: not
 * checked.
 */
export function commandProblem(command: string, path: string): string | undefined {
  if (!command.includes("/")) {
    try {
      resolveCommand(command, path);
      return undefined;
    } catch {
      return `'${command}' is not on the PATH (${path})`;
    }
  }
  if (!isAbsolute(command)) return undefined;
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(command);
  } catch {
    return `'${command}' does not exist`;
  }
  if (!st.isFile()) return `'${command}' is not a regular file`;
  if ((st.mode & 0o111) === 0) return `'${command}' is not executable`;
  return undefined;
}

/** Templates a command may use and still be checked at install (no instance known yet). */
const INSTALL_TIME = /\{\{\s*(?!software\s*\}\}|outpost\.)[^}]*\}\}/;

/**
 * At install: every process command that needs no instance (only `{{software}}` and
 * `{{outpost.*}}`) must resolve now, inside the installed tree or on the PATH. Returns
 * each problem, naming the process and the file.
 */
export function installTimeCommandProblems(
  descriptor: SoftwareDescriptor,
  vars: TemplateVars,
): string[] {
  const problems: string[] = [];
  for (const [i, p] of (descriptor.instance?.processes ?? []).entries()) {
    const first = p.command[0] ?? "";
    if (INSTALL_TIME.test(first)) continue;
    const where = `instance.processes[${i}].command[0]`;
    const problem = commandProblem(renderTemplate(first, vars, where), p.env?.PATH ?? PROCESS_PATH);
    if (problem) problems.push(`${where}: ${problem}`);
  }
  return problems;
}

/**
 * At start: every rendered process's program must exist (the ones whose command depends
 * on the instance could not be checked at install). Throws DescriptorError naming each
 * missing one, before any process of the instance starts.
 */
export function checkRenderedCommands(
  url: string,
  processes: readonly { command: string; env: Readonly<Record<string, string>> }[],
): void {
  const problems = processes.flatMap((p, i) => {
    const problem = commandProblem(p.command, p.env.PATH ?? PROCESS_PATH);
    return problem ? [`instance.processes[${i}].command[0]: ${problem}`] : [];
  });
  if (problems.length > 0) throw new DescriptorError(url, problems);
}
