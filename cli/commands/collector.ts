import { once } from "node:events";
import { Option } from "commander";
import type { DiskBuffer } from "../../buffer/index.js";
import type {
  CollectorConfig,
  CollectorConfigError,
  TelemetryRecord,
} from "../../collector/index.js";
import { hasCode } from "../../common/errors.js";
import { type Logger, renderTable } from "../../common/index.js";
import { ConfigError, issueAtKey, loadConfigFile } from "../config/index.js";
import { printState, withJsonOption } from "../output.js";
import type { CommandContext, RegisterCommand } from "../program.js";
import { UsageError } from "../usage-error.js";
import { tailCollector } from "./collector-tail.js";

const STATS_EVERY_MS = 60_000;

/**
 * Loaded on use: node-opcua is heavy and every other command starts without it.
 */
export async function loadCollector(
  context: CommandContext,
): Promise<typeof import("../../collector/index.js")> {
  const collector = await import("../../collector/index.js");
  collector.routeOpcuaLibraryLogs(context.logger().child({ component: "collector" }));
  return collector;
}

/**
 * `outpost collector run|read|tail|browse`: run the inputs into the buffer, read every tag
 * once to commission a register map, follow the records a running collector writes, or
 * print an OPC-UA server's address space.
 */
export const registerCollector: RegisterCommand = (program, context) => {
  const collector = program
    .command("collector")
    .description("read Modbus and OPC-UA devices into the telemetry buffer");

  collector
    .command("run")
    .description("poll and subscribe to every configured device, writing records to the buffer")
    .requiredOption("--config <file>", "collector config (YAML)")
    .action(async (opts: { config: string }) => {
      const { Collector, openBufferOutput } = await loadCollector(context);
      const config = await loadCollectorConfig(context, opts.config);
      if (!config.output) {
        throw new ConfigError(opts.config, [
          { key: "output", line: 0, column: 0, message: "required by `collector run`" },
        ]);
      }
      // Checked before anything opens: the agent sets it for the processes it runs.
      const api = process.env.OUTPOST_API;
      if (config.output.forward === "agent" && !api) {
        throw new ConfigError(opts.config, [
          issueAtKey(
            opts.config,
            "output.forward",
            "'agent' needs OUTPOST_API (the agent's local API socket, set for the processes it runs)",
          ),
        ]);
      }
      const logger = context.logger();
      const bufferLogger = logger.child({ component: "buffer" });
      const output = await openBufferOutput(
        config.output.buffer,
        config.output.stream,
        bufferLogger,
      );
      const forwarding =
        api && config.output.forward === "agent"
          ? await forwardToAgent(output.buffer, api, bufferLogger)
          : undefined;
      const running = new Collector(config, { output, logger });
      await running.start();
      logger.info(
        {
          devices: config.devices.length,
          buffer: config.output.buffer,
          ...(forwarding ? { forward: api } : {}),
        },
        "collector.started",
      );
      const stats = setInterval(
        () =>
          logger.info({ inputs: running.stats(), lines: running.lineStats() }, "collector.stats"),
        STATS_EVERY_MS,
      );
      await Promise.race([once(process, "SIGINT"), once(process, "SIGTERM")]);
      clearInterval(stats);
      await running.stop();
      // Sends in flight are abandoned: their chunks stay in the buffer for the next run.
      await forwarding?.stop();
      await output.close();
      logger.info({ inputs: running.stats(), lines: running.lineStats() }, "collector.stopped");
    });

  withJsonOption(
    collector
      .command("read")
      .description("read every tag once and print one record per tag (commissioning)")
      .requiredOption("--config <file>", "collector config (YAML)")
      .option("--once", "read once and exit (the only mode)")
      .option("--wait <ms>", "how long to wait for slow devices", "10000"),
  ).action(async (opts: { config: string; once?: boolean; json?: boolean; wait: string }) => {
    if (!opts.once) throw new UsageError("collector read: --once is required");
    const waitMs = Number(opts.wait);
    if (!Number.isInteger(waitMs) || waitMs <= 0) {
      throw new UsageError(`--wait '${opts.wait}': must be a positive number of milliseconds`);
    }
    const { readOnce, recordToJsonLine } = await loadCollector(context);
    const config = await loadCollectorConfig(context, opts.config);
    const records = await readOnce(config, context.logger(), waitMs);
    if (opts.json) {
      context.io.stdout.write(records.map((r) => `${recordToJsonLine(r)}\n`).join(""));
    } else {
      context.io.stdout.write(table(records));
    }
  });

  collector
    .command("tail")
    .description(
      "print the records a running collector writes to its buffer from now on, as they come, forwarded or not (NDJSON, as `collector read --json`); reads the buffer's files beside the collector without disturbing it",
    )
    .requiredOption(
      "--config <file>",
      "the collector's config (YAML): its output.buffer and output.stream",
    )
    .option("--table", "aligned columns instead of NDJSON, for a terminal")
    .action(async (opts: { config: string; table?: boolean }) => {
      const config = await loadCollectorConfig(context, opts.config);
      if (!config.output) {
        throw new ConfigError(opts.config, [
          { key: "output", line: 0, column: 0, message: "required by `collector tail`" },
        ]);
      }
      await tailCollector(config.output, opts, context);
    });

  withJsonOption(
    collector
      .command("browse")
      .description("print an OPC-UA server's address space (objects and variables) as a tree")
      .argument("<endpoint>", "opc.tcp://host:port")
      .option("--depth <n>", "levels below Objects", "4")
      .option("--data-dir <dir>", "the collector's data dir (PKI)", "/var/lib/outpost/collector")
      .addOption(
        new Option("--security-mode <mode>", "message security, as a device's opcua.security.mode")
          .choices(["None", "Sign", "SignAndEncrypt"])
          .default("None"),
      )
      .addOption(
        new Option("--security-policy <policy>", "with Sign or SignAndEncrypt")
          .choices(["Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"])
          .default("Basic256Sha256"),
      ),
  ).action(async (endpoint: string, opts: BrowseFlags) => {
    if (!endpoint.startsWith("opc.tcp://")) {
      throw new UsageError(`endpoint '${endpoint}': must start with opc.tcp://`);
    }
    const depth = Number(opts.depth);
    if (!Number.isInteger(depth) || depth < 1 || depth > 20) {
      throw new UsageError(`--depth '${opts.depth}': must be an integer from 1 to 20`);
    }
    const { browse, formatTree } = await loadCollector(context);
    const tree = await browse(endpoint, {
      dataDir: opts.dataDir,
      depth,
      security: { mode: opts.securityMode, policy: opts.securityPolicy },
    });
    printState(context.io, opts, tree, formatTree);
  });
};

interface BrowseFlags {
  depth: string;
  dataDir: string;
  securityMode: "None" | "Sign" | "SignAndEncrypt";
  securityPolicy: string;
  json?: boolean;
}

/**
 * Drains `buffer` to the master through the node agent's local API at `socketPath`
 * (the agent relays under the node's key; a partition never holds it). The buffer's
 * backlog rides the same posts (see LocalApiSink).
 */
async function forwardToAgent(
  buffer: DiskBuffer,
  socketPath: string,
  logger: Logger,
): Promise<{ stop(): Promise<void> }> {
  const { Forwarder } = await import("../../buffer/index.js");
  const { LocalApiSink } = await import("../../agent/index.js");
  const sink = new LocalApiSink(socketPath);
  const forwarder = new Forwarder(buffer, sink, buffer.config.forward, logger);
  forwarder.start();
  return {
    async stop() {
      await forwarder.stop();
      await sink.close();
    },
  };
}

async function loadCollectorConfig(
  context: CommandContext,
  file: string,
): Promise<CollectorConfig> {
  const { collectorConfigSchema, validateCollectorConfig } = await loadCollector(context);
  const config = loadConfigFile<CollectorConfig>(file, collectorConfigSchema);
  try {
    validateCollectorConfig(config);
  } catch (err) {
    if (hasCode<CollectorConfigError>(err, "E_COLLECTOR_CONFIG")) {
      const message = err.message.slice(err.key.length + 2);
      throw new ConfigError(file, [issueAtKey(file, err.key, message)]);
    }
    throw err;
  }
  return config;
}

function table(records: readonly TelemetryRecord[]): string {
  const rows = records.map((r) => [
    r.device,
    r.tag,
    r.value === null ? "-" : String(r.value),
    r.unit ?? "",
    r.quality,
  ]);
  return `${renderTable([["DEVICE", "TAG", "VALUE", "UNIT", "QUALITY"], ...rows])}\n`;
}
