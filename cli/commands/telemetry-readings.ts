import { once } from "node:events";
import { type Command, InvalidArgumentError, Option } from "commander";
import { InstantSyntaxError, parseInstant, renderTable } from "../../common/index.js";
import type { JsonValue, ReadingsAnswer, ReadingsParamsInput } from "../../master/index.js";
import type { CliIo } from "../io.js";
import type { CommandContext } from "../program.js";
import { UsageError } from "../usage-error.js";
import { formatTime } from "./format-time.js";
import { masterClient, withMasterOptions } from "./master-client.js";

const AGGREGATES = ["avg", "min", "max", "last", "count"] as const;

/** The flags that choose readings, shared by `readings` and `export`. */
export interface ReadingsFlags {
  node?: string;
  device?: string;
  tag: string[];
  from?: number;
  to?: number;
  quality?: "good" | "any";
  master?: string;
  tokenFile?: string;
}

/** A point in time as `parseInstant` takes it, read now (relative times count back from now). */
export function parseTimeFlag(text: string): number {
  try {
    return parseInstant(text, Date.now());
  } catch (err) {
    if (err instanceof InstantSyntaxError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

/** `--node`, `--device`, `--tag` (repeatable), `--from`, `--to`, `--quality` and the master's flags. */
export function withReadingsOptions(command: Command, fromDefault: string): Command {
  return withMasterOptions(
    command
      .option("--node <name>", "only this node")
      .option("--device <name>", "only this device")
      .option("--tag <name>", "only this tag (repeat for several)", collect, [])
      .option(
        "--from <time>",
        `start: ISO 8601, ms since the epoch or a duration ago (10m, 2h, 1d)${fromDefault}`,
        parseTimeFlag,
      )
      .option("--to <time>", "end (exclusive), as --from; default now", parseTimeFlag)
      .addOption(
        new Option("--quality <which>", "good readings only, or any quality")
          .choices(["good", "any"])
          .default("good"),
      ),
  );
}

/** The API's parameters of the flags (times resolved here, so one window is read). */
export function readingsParams(
  flags: ReadingsFlags,
  defaultFromMs: number,
): ReadingsParamsInput & {
  from: number;
  to: number;
} {
  const to = flags.to ?? Date.now();
  const from = flags.from ?? to - defaultFromMs;
  if (from >= to) throw new UsageError("--from: must be before --to");
  return {
    ...(flags.node ? { node: flags.node } : {}),
    ...(flags.device ? { device: flags.device } : {}),
    ...(flags.tag.length > 0 ? { tags: flags.tag } : {}),
    from,
    to,
    ...(flags.quality === "any" ? { quality: "any" as const } : {}),
  };
}

/**
 * `outpost telemetry readings`: the readings of a window as a table, or as the API's
 * CSV (`--csv`) or JSON (`--json`), both streamed straight through to stdout.
 */
export function registerReadings(telemetry: Command, context: CommandContext): void {
  withReadingsOptions(
    telemetry
      .command("readings")
      .description("print readings of a time window (raw, or aggregated per --step)"),
    "; default 1h",
  )
    .option("--step <duration>", "aggregate per bucket of this width (1m, 15m, 1h)")
    .addOption(
      new Option("--agg <aggregate>", "the bucket's aggregate (with --step; default avg)").choices(
        AGGREGATES,
      ),
    )
    .option("--csv", "print CSV (one row per reading) instead of a table")
    .option("--json", "print one JSON document on stdout instead of a table")
    .action(
      async (
        options: ReadingsFlags & {
          step?: string;
          agg?: (typeof AGGREGATES)[number];
          csv?: boolean;
          json?: boolean;
        },
      ) => {
        if (options.csv && options.json) throw new UsageError("--csv and --json: pick one");
        if (options.agg && !options.step) throw new UsageError("--agg: needs --step");
        const params: ReadingsParamsInput = {
          ...readingsParams(options, 3_600_000),
          ...(options.step ? { step: options.step } : {}),
          ...(options.agg ? { agg: options.agg } : {}),
        };
        const client = await masterClient(options);
        if (options.csv || options.json) {
          const format = options.csv ? "csv" : "json";
          await copy(context.io, await client.readingsStream(params, format));
          if (options.json) context.io.stdout.write("\n");
          return;
        }
        context.io.stdout.write(
          `${renderReadings(await client.readings(params), !!options.step)}\n`,
        );
      },
    );
}

/** Commander's accumulator of a repeatable flag. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function copy(io: CliIo, pieces: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const piece of pieces) {
    if (!io.stdout.write(piece)) await once(io.stdout, "drain");
  }
}

/** A value as the readings' text shows it: `-` for none, arrays as JSON, 64-bit integers exact. */
export function valueCell(value: JsonValue): string {
  return value === null ? "-" : typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** The answer as a table: one row per point, then its gaps and losses. */
export function renderReadings(answer: ReadingsAnswer, aggregated: boolean): string {
  const rows = answer.series.flatMap((s) =>
    s.points.map(([ts, value, third]) => [
      formatTime(ts),
      s.node,
      s.device,
      s.tag,
      valueCell(value),
      s.unit ?? "",
      String(third),
    ]),
  );
  const parts = [
    rows.length === 0
      ? "no readings"
      : renderTable(
          [
            ["TIME", "NODE", "DEVICE", "TAG", "VALUE", "UNIT", aggregated ? "COUNT" : "QUALITY"],
            ...rows,
          ],
          { align: ["left", "left", "left", "left", "right"] },
        ),
  ];
  for (const g of answer.gaps) {
    parts.push(
      `gap: ${g.node} ${g.stream} ${g.fromSeq}-${g.toSeq} (${g.records} records, between ${formatTime(g.fromTs)} and ${formatTime(g.toTs)})${g.reported ? " reported lost" : ""}`,
    );
  }
  for (const l of answer.losses) {
    parts.push(
      `lost: ${l.node} ${l.stream} ${l.fromSeq}-${l.toSeq} (${l.records} records, ${l.reason}, at ${formatTime(l.at)})`,
    );
  }
  return parts.join("\n");
}
