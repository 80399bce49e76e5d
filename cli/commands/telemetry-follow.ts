import { type Command, InvalidArgumentError } from "commander";
import type { Reading } from "../../master/index.js";
import type { CommandContext } from "../program.js";
import { UsageError } from "../usage-error.js";
import { formatTime } from "./format-time.js";
import { addNatsLoginOptions, type NatsLoginFlags, natsLogin } from "./nats-flags.js";
import { writeOut } from "./stored-records.js";
import { collect, valueCell } from "./telemetry-readings.js";

/** Column widths: lines are printed as readings come, so they cannot be measured. */
const WIDTHS = { node: 16, device: 16, tag: 24, value: 16, unit: 8 };

interface FollowFlags extends NatsLoginFlags {
  nats?: string;
  node?: string;
  device?: string;
  tag: string[];
  durable?: string;
  ndjson?: boolean;
}

/**
 * `outpost telemetry follow --nats URL`: readings as masters publish them to NATS
 * JetStream, one line each, until SIGINT or SIGTERM (or stdout closes). With `--durable`
 * a message is acked once its lines are written, so a follow started again under the
 * same name goes on after the last one printed.
 */
export function registerFollow(telemetry: Command, context: CommandContext): void {
  const follow = telemetry
    .command("follow")
    .description("print readings live from NATS JetStream (masters started with --nats)")
    .option("--nats <url>", "NATS servers, nats://HOST:PORT (env OUTPOST_NATS)");
  addNatsLoginOptions(follow)
    .option("--node <name>", "only this node")
    .option("--device <name>", "only this device")
    .option("--tag <name>", "only this tag (repeat for several)", collect, [])
    .option(
      "--durable <name>",
      "a durable consumer of this name: resumes after the last reading printed (default: from now, forgotten on exit)",
      durableName,
    )
    .option(
      "--ndjson",
      "print one JSON object per reading (the export's NDJSON) instead of a line of text",
    )
    .action(async (options: FollowFlags) => {
      const { followTelemetry, ndjsonReadings, parseNatsServers, jsonValue } = await import(
        "../../master/index.js"
      );
      const url = options.nats ?? process.env.OUTPOST_NATS;
      if (url === undefined) throw new UsageError("--nats: required (or set OUTPOST_NATS)");
      let servers: string[];
      try {
        servers = parseNatsServers(url);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const login = await natsLogin(options);
      const ndjson = ndjsonReadings();
      const render = options.ndjson
        ? (r: Reading) => ndjson.row(r)
        : (r: Reading) => `${line(r, valueCell(jsonValue(r.value)))}\n`;
      const wanted = (r: Reading) =>
        (options.device === undefined || r.device === options.device) &&
        (options.tag.length === 0 || options.tag.includes(r.tag));
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      // A closed stdout (EPIPE) ends the follow; kept past the end, as the event may come late.
      context.io.stdout.once("error", onSignal);
      const logger = context.logger().child({ component: "telemetry-follow" });
      try {
        const messages = followTelemetry({
          servers,
          ...login,
          ...(options.node !== undefined ? { node: options.node } : {}),
          ...(options.durable !== undefined ? { durable: options.durable } : {}),
          signal: stop.signal,
          onUnreadable: (subject, seq, reason) =>
            logger.warn({ subject, seq, reason }, "follow.message_unreadable"),
        });
        for await (const m of messages) {
          const text = m.readings.filter(wanted).map(render).join("");
          if (text !== "") await writeOut(context.io, Buffer.from(text));
          m.ack();
        }
      } catch (err) {
        // The reader went away: the end of the follow, not a failure.
        if ((err as NodeJS.ErrnoException).code !== "EPIPE") throw err;
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}

/** A reading as one line: the columns of `telemetry readings`, in fixed widths. */
function line(r: Reading, value: string): string {
  const quality = r.status === undefined ? r.quality : `${r.quality} (${r.status})`;
  return [
    formatTime(r.ts),
    r.node.padEnd(WIDTHS.node),
    r.device.padEnd(WIDTHS.device),
    r.tag.padEnd(WIDTHS.tag),
    value.padStart(WIDTHS.value),
    (r.unit ?? "").padEnd(WIDTHS.unit),
    quality,
  ].join("  ");
}

function durableName(value: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(value))
    throw new InvalidArgumentError(
      `expected 1 to 64 letters, digits, '-' or '_' (a JetStream consumer name), got '${value}'`,
    );
  return value;
}
