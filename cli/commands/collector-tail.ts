import type { CollectorConfig, TelemetryRecord } from "../../collector/index.js";
import type { CommandContext } from "../program.js";
import { lineOf, loadRecordDecoder, writeOut } from "./stored-records.js";

/** Column widths of `--table`: rows are printed as they come, so they cannot be measured. */
const WIDTHS = { device: 16, tag: 24, value: 16, unit: 8 };

/**
 * `outpost collector tail`: the records the collector of `output` appends to its buffer
 * stream, from now on, as they come, forwarded or not: the buffer's follower reads the
 * chunk files beside the running collector (no lock, nothing written). Until SIGINT or
 * SIGTERM, or until stdout is closed (`| head`).
 */
export async function tailCollector(
  output: NonNullable<CollectorConfig["output"]>,
  opts: { table?: boolean },
  context: CommandContext,
): Promise<void> {
  const decoder = await loadRecordDecoder();
  const { followStream } = await import("../../buffer/index.js");
  const logger = context.logger().child({ component: "buffer" });
  const render = opts.table ? row : decoder.jsonLine;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  // A closed stdout (EPIPE) is reported here too; left without a listener it would crash.
  // Kept past the end: the event may come after the failed write returned.
  context.io.stdout.once("error", onSignal);
  try {
    if (opts.table) await writeOut(context.io, Buffer.from(`${header()}\n`));
    const batches = followStream(output.buffer, output.stream, { signal: stop.signal });
    for await (const batch of batches) {
      const lines = batch.flatMap((r) => lineOf(r, decoder, render, logger) ?? []);
      if (lines.length > 0) await writeOut(context.io, Buffer.concat(lines));
    }
  } catch (err) {
    // The reader went away: the end of the tail, not a failure.
    if ((err as NodeJS.ErrnoException).code !== "EPIPE") throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function header(): string {
  return columns("TIME".padEnd(24), "DEVICE", "TAG", "VALUE", "UNIT", "QUALITY");
}

function row(r: TelemetryRecord): string {
  const quality = r.status === undefined ? r.quality : `${r.quality} (${r.status})`;
  return columns(
    new Date(r.ts).toISOString(),
    r.device,
    r.tag,
    valueText(r),
    r.unit ?? "",
    quality,
  );
}

function columns(...[time, device, tag, value, unit, quality]: string[]): string {
  return [
    time,
    (device ?? "").padEnd(WIDTHS.device),
    (tag ?? "").padEnd(WIDTHS.tag),
    (value ?? "").padStart(WIDTHS.value),
    (unit ?? "").padEnd(WIDTHS.unit),
    quality,
  ].join("  ");
}

function valueText(r: TelemetryRecord): string {
  if (r.value === null) return "-";
  if (Array.isArray(r.value)) return `[${r.value.map(String).join(", ")}]`;
  return String(r.value);
}
