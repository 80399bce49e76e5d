import { readFileSync } from "node:fs";
import { hasCode } from "../../common/errors.js";
import type { ConfigError } from "../config/index.js";
import type { RegisterCommand } from "../program.js";

/** `outpost release check FILE` / `reference`: the software release descriptor offline. */
export const registerRelease: RegisterCommand = (program, context) => {
  const release = program
    .command("release")
    .description("software release descriptors (software.yaml), offline");

  release
    .command("check <file>")
    .description(
      "validate a descriptor as the agent will: print each problem as FILE:LINE:COLUMN: KEY: what, exit 1 if any",
    )
    .option("--json", "print { ok, name?, version?, problems: [{ line, column, key, message }] }")
    .action(async (file: string, options: { json?: boolean }) => {
      const [{ loadConfigFile }, agent] = await Promise.all([
        import("../config/index.js"),
        import("../../agent/index.js"),
      ]);
      let problems: { line: number; column: number; key: string; message: string }[] = [];
      let descriptor: { name: string; version: string } | undefined;
      try {
        loadConfigFile(file, agent.descriptorSchema);
        descriptor = agent.parseDescriptor(readFileSync(file, "utf8"), file);
      } catch (err) {
        if (hasCode<ConfigError>(err, "E_CONFIG")) problems = err.issues;
        else if (
          hasCode<{ code: string; issues: string[] }>(err, "E_AGENT_DESCRIPTOR", "E_AGENT_SECRET")
        )
          problems = err.issues.map((message) => ({
            line: 0,
            column: 0,
            key: "",
            message,
          }));
        else throw err;
      }
      if (options.json) {
        context.io.stdout.write(
          `${JSON.stringify({ ok: problems.length === 0, ...(descriptor ?? {}), problems })}\n`,
        );
      } else if (descriptor && problems.length === 0) {
        context.io.stdout.write(`${file}: ok (${descriptor.name} ${descriptor.version})\n`);
      } else {
        for (const p of problems) {
          const where = p.line > 0 ? `${file}:${p.line}:${p.column}` : file;
          context.io.stderr.write(`${where}: ${p.key ? `${p.key}: ` : ""}${p.message}\n`);
        }
      }
      if (problems.length > 0) process.exitCode = 1;
    });

  release
    .command("reference")
    .description(
      "print the descriptor reference (docs/software-release.md), generated from its JSON Schema",
    )
    .action(async () => {
      const { descriptorReference } = await import("../../agent/index.js");
      context.io.stdout.write(descriptorReference());
    });
};
