import { type Command, Option } from "commander";
import { printState, withJsonOption } from "../output.js";
import type { CommandContext } from "../program.js";
import { countBar } from "../progress-bar.js";
import { UsageError } from "../usage-error.js";
import { masterClient } from "./master-client.js";
import { type ReadingsFlags, readingsParams, withReadingsOptions } from "./telemetry-readings.js";

const FORMATS = ["csv", "ndjson", "parquet"] as const;

/**
 * `outpost telemetry export --from --to --format --out FILE`: a window of readings to a
 * file, streamed (master/README.md, "Exports"), with a progress bar on a terminal.
 */
export function registerExport(telemetry: Command, context: CommandContext): void {
  withJsonOption(
    withReadingsOptions(
      telemetry
        .command("export")
        .description("write the readings of a time window to a CSV, NDJSON or Parquet file"),
      " (required)",
    )
      .addOption(
        new Option("--format <format>", "file format").choices(FORMATS).makeOptionMandatory(),
      )
      .requiredOption("--out <file>", "the file to write (appears once complete)"),
  ).action(
    async (
      options: ReadingsFlags & { format: (typeof FORMATS)[number]; out: string; json?: boolean },
    ) => {
      if (options.from === undefined) throw new UsageError("--from: required (e.g. --from 1d)");
      const params = readingsParams(options, 0);
      const client = await masterClient(options);
      const { exportReadings } = await import("../../master/index.js");
      const bar = countBar(context.io, "readings");
      let readings: number;
      try {
        readings = await exportReadings(client, {
          params,
          format: options.format,
          out: options.out,
          ...(context.io.isTty ? { progress: (done, total) => bar.update(done, total) } : {}),
        });
      } finally {
        bar.stop();
      }
      printState(
        context.io,
        options,
        {
          file: options.out,
          format: options.format,
          readings,
          from: new Date(params.from).toISOString(),
          to: new Date(params.to).toISOString(),
        },
        (s) => `exported ${s.readings} readings (${s.from} to ${s.to}) to ${s.file}`,
      );
    },
  );
}
