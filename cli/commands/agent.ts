import { InvalidArgumentError } from "commander";
import { packageInfo } from "../package-info.js";
import type { RegisterCommand } from "../program.js";
import { UsageError } from "../usage-error.js";

const MAX_PARTITIONS = 254;

function seconds(text: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n <= 0 || n > 3600)
    throw new InvalidArgumentError("expected a number of seconds from 0.1 to 3600.");
  return n;
}

function hostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65535)
    throw new InvalidArgumentError("expected HOST:PORT, e.g. 127.0.0.1:9101.");
  return { host: m[1] ?? m[2] ?? "", port };
}

function partitionCount(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_PARTITIONS)
    throw new InvalidArgumentError(`expected an integer from 1 to ${MAX_PARTITIONS}.`);
  return n;
}

interface StartOptions {
  data: string;
  master: string;
  masterKey: string;
  name?: string;
  partitions: number;
  syncInterval: number;
  metrics?: { host: string; port: number };
  board?: string;
  ota?: string;
}

/** `--ota FILE`, validated at the edge (E_CONFIG naming file, line and key). */
async function loadOtaConfig(file: string) {
  const [{ loadConfigFile }, { otaConfigSchema }] = await Promise.all([
    import("../config/index.js"),
    import("../../ota/index.js"),
  ]);
  return loadConfigFile<import("../../ota/index.js").OtaConfig>(file, otaConfigSchema);
}

/** `outpost agent start|key`: the node agent and its identity. */
export const registerAgent: RegisterCommand = (program, context) => {
  const agent = program.command("agent").description("the node agent that converges this box");

  agent
    .command("start")
    .description(
      "run the node agent: sync with the master, install, run and check instances; runs until SIGINT or SIGTERM, which leave the workloads running",
    )
    .requiredOption("--data <dir>", "data directory: key, journal, software, partitions")
    .requiredOption("--master <endpoint>", "the master's node endpoint, tcp://HOST:PORT")
    .requiredOption("--master-key <key>", "the master's public key (Z85, `outpost master key`)")
    .option("--name <name>", "the name this node was added under (checked against the master's)")
    .option("--partitions <n>", "how many partitions to offer", partitionCount, 4)
    .option("--sync-interval <seconds>", "pause between converge passes", seconds, 5)
    .option(
      "--metrics <host:port>",
      "serve Prometheus metrics on /metrics (keep it on loopback)",
      hostPort,
    )
    .option("--board <id>", "the board this node runs on, as reported to the master")
    .option(
      "--ota <file>",
      "A/B update settings of an Outpost image (/etc/outpost/ota.json): commit a trial boot once healthy, else fall back",
    )
    .action(async (options: StartOptions) => {
      if (!/^tcp:\/\/[^\s/]+:\d{1,5}$/.test(options.master)) {
        throw new UsageError(`--master: expected tcp://HOST:PORT, got '${options.master}'`);
      }
      const { isKeyText } = await import("../../protocol/index.js");
      if (!isKeyText(options.masterKey)) {
        throw new UsageError("--master-key: expected the master's 40-character Z85 public key");
      }
      const { startAgent } = await import("../../agent/index.js");
      const ota = options.ota ? { config: await loadOtaConfig(options.ota) } : undefined;
      const running = await startAgent({
        data: options.data,
        master: options.master,
        masterKey: options.masterKey,
        partitions: options.partitions,
        agentVersion: packageInfo.version,
        syncIntervalMs: Math.round(options.syncInterval * 1000),
        logger: context.logger(),
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(options.metrics ? { metrics: options.metrics } : {}),
        ...(options.board !== undefined ? { board: options.board } : {}),
        ...(ota ? { ota } : {}),
      });
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await running.close();
    });

  agent
    .command("key")
    .description("print this node's public key (Z85), creating the key pair on first use")
    .requiredOption("--data <dir>", "the agent's data directory")
    .action(async (options: { data: string }) => {
      const { loadOrCreateIdentity } = await import("../../agent/index.js");
      context.io.stdout.write(`${loadOrCreateIdentity(options.data).publicKey}\n`);
    });
};
