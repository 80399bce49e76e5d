import { Command, Option } from "commander";
import type { CliIo } from "./io.js";
import { createLogger, type LogFormat, type Logger } from "./logger.js";
import { packageInfo } from "./package-info.js";

/** What every command receives: its streams and a logger built from the global options. */
export interface CommandContext {
  io: CliIo;
  logger(): Logger;
}

export type RegisterCommand = (program: Command, context: CommandContext) => void;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export function buildProgram(io: CliIo, commands: readonly RegisterCommand[]): Command {
  const program = new Command("outpost")
    .description(
      "Kubernetes-free edge stack: node agent, real-time partitions, telemetry buffer, master",
    )
    .version(packageInfo.version, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .addOption(
      new Option("--log-level <level>", "log verbosity").choices(LOG_LEVELS).default("info"),
    )
    .addOption(
      new Option(
        "--log-format <format>",
        "log lines: pretty (one short line per event) or json (one NDJSON event per line); default pretty on a terminal, json when piped",
      ).choices(["pretty", "json"]),
    )
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`outpost: ${text.replace(/^error: /, "").trim()}\n`),
    })
    .exitOverride();

  let logger: Logger | undefined;
  const context: CommandContext = {
    io,
    logger() {
      const { logLevel, logFormat } = program.opts<{
        logLevel: (typeof LOG_LEVELS)[number];
        logFormat?: LogFormat;
      }>();
      const pretty = logFormat === undefined ? io.isTty : logFormat === "pretty";
      logger ??= createLogger({ level: logLevel, pretty });
      return logger;
    },
  };
  for (const register of commands) register(program, context);
  program.commands.forEach((command) => {
    command.exitOverride().configureOutput(program.configureOutput());
  });
  return program;
}
