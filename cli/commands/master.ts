import { hasCode, parseDuration } from "../../common/index.js";
import type { RegisterCommand } from "../program.js";
import { UsageError } from "../usage-error.js";
import { addNatsLoginOptions, type NatsLoginFlags, natsLogin } from "./nats-flags.js";

// The same defaults as master/master.ts, spelt here so that `--help` and startup of other
// commands do not load the master (SQLite, ZeroMQ); test/cli/master.test.ts (and
// telemetry-follow.test.ts for the duplicate window) checks they agree.
const DEFAULT_LISTEN = "tcp://127.0.0.1:5660";
const DEFAULT_HTTP = "127.0.0.1:5661";
const DEFAULT_DEDUPE_WINDOW = "1h";

/** `outpost master start|key`: run a master, print its public key. */
export const registerMaster: RegisterCommand = (program, context) => {
  const master = program
    .command("master")
    .description("run the master that holds the fleet's desired state");

  const start = master
    .command("start")
    .description("start a master: node link (CURVE) and HTTP API; runs until SIGINT or SIGTERM")
    .requiredOption(
      "--data <dir>",
      "data directory: keys, admin token, database (created if missing)",
    )
    .option("--listen <endpoint>", "ZeroMQ endpoint for nodes", DEFAULT_LISTEN)
    .option("--http <address>", "HTTP API address HOST:PORT (keep it on loopback)", DEFAULT_HTTP)
    .option(
      "--store <store>",
      "sqlite (a file in --data) or postgres://USER@HOST/DB; the password from PGPASSWORD, PGPASSFILE or ~/.pgpass, never the URL",
      "sqlite",
    )
    .option(
      "--retention <stream:raw:rollup>",
      "keep a stream's raw readings RAW and its 1-minute rollups ROLLUP (1d, 36h, forever); '*' is every other stream; repeatable (default: everything forever)",
      (spec: string, specs: string[]) => [...specs, spec],
      [] as string[],
    )
    .option(
      "--keep-chunks <days>",
      "keep decoded chunk bodies this many days for replay (default: dropped once decoded)",
    )
    .option(
      "--heartbeat <seconds>",
      "link heartbeat toward nodes; a node silent three of them is dropped (a fleet of thousands: 60)",
      "5",
    )
    .option(
      "--nats <url>",
      "publish every chunk's readings to NATS JetStream, nats://HOST:PORT (comma-separated for a cluster); no credentials in it",
    )
    .option(
      "--nats-dedupe-window <duration>",
      "how long JetStream drops a resent message by its id (at least 2m)",
      DEFAULT_DEDUPE_WINDOW,
    );
  addNatsLoginOptions(start).action(
    async (
      options: {
        data: string;
        listen: string;
        http: string;
        store: string;
        retention: string[];
        keepChunks?: string;
        heartbeat: string;
        nats?: string;
        natsDedupeWindow: string;
      } & NatsLoginFlags,
    ) => {
      if (!/^tcp:\/\/[^\s/]+:(\d{1,5}|\*)$/.test(options.listen)) {
        throw new UsageError(
          `--listen: expected tcp://HOST:PORT (e.g. ${DEFAULT_LISTEN}), got '${options.listen}'`,
        );
      }
      const heartbeatSeconds = Number(options.heartbeat);
      if (!/^\d{1,4}$/.test(options.heartbeat) || heartbeatSeconds < 1 || heartbeatSeconds > 3600)
        throw new UsageError(
          `--heartbeat: expected whole seconds from 1 to 3600, got '${options.heartbeat}'`,
        );
      const {
        startMaster,
        parseHttpAddress,
        parseNatsServers,
        parseRetention,
        MIN_DEDUPE_WINDOW_MS,
      } = await import("../../master/index.js");
      let retention: ReturnType<typeof parseRetention>;
      let dedupeWindowMs: number;
      try {
        parseHttpAddress(options.http);
        retention = parseRetention(options.retention, options.keepChunks);
        if (options.nats !== undefined) parseNatsServers(options.nats);
        dedupeWindowMs = parseDuration(options.natsDedupeWindow);
      } catch (err) {
        throw new UsageError(
          hasCode(err, "E_DURATION")
            ? `--nats-dedupe-window: ${(err as Error).message}`
            : (err as Error).message,
        );
      }
      if (dedupeWindowMs < MIN_DEDUPE_WINDOW_MS)
        throw new UsageError(
          `--nats-dedupe-window: must be at least 2m, got '${options.natsDedupeWindow}'`,
        );
      const running = await startMaster({
        data: options.data,
        listen: options.listen,
        http: options.http,
        store: options.store,
        retention,
        heartbeatSeconds,
        ...(options.nats !== undefined
          ? { nats: { url: options.nats, ...(await natsLogin(options)), dedupeWindowMs } }
          : {}),
        logger: context.logger(),
      });
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await running.close();
    },
  );

  master
    .command("key")
    .description("print the master's public key (Z85), creating the key pair on first use")
    .requiredOption("--data <dir>", "the master's data directory")
    .action(async (options: { data: string }) => {
      const { masterPublicKey } = await import("../../master/index.js");
      context.io.stdout.write(`${masterPublicKey(options.data)}\n`);
    });
};
