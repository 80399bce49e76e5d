import { InvalidArgumentError } from "commander";
import { packageInfo } from "../package-info.js";
import type { RegisterCommand } from "../program.js";
import { UsageError } from "../usage-error.js";
import { registerAgentAudit } from "./agent-audit.js";

const MAX_PARTITIONS = 254;

function seconds(text: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n <= 0 || n > 3600)
    throw new InvalidArgumentError("expected a number of seconds from 0.1 to 3600.");
  return n;
}

function hostPort(text: string): string {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!m || Number(m[3]) > 65535)
    throw new InvalidArgumentError("expected HOST:PORT, e.g. 127.0.0.1:9101.");
  return text;
}

function partitionCount(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_PARTITIONS)
    throw new InvalidArgumentError(`expected an integer from 1 to ${MAX_PARTITIONS}.`);
  return n;
}

interface StartFlags {
  config?: string;
  data?: string;
  master?: string;
  masterKey?: string;
  name?: string;
  partitions?: number;
  syncInterval?: number;
  metrics?: string;
  board?: string;
  ota?: string;
  fileRoot?: string[];
  limit?: string[];
}

/**
 * Flags over `--config FILE`, as `startAgent`'s settings (the file's keys in camelCase,
 * as commander names the flags); `startAgent` fills in the defaults. `--file-root`s add
 * to the file's, `--limit`s go over its `limits:`. The three required settings are
 * checked here, naming the flag.
 */
async function startSettings(flags: StartFlags) {
  const agent = await import("../../agent/index.js");
  let file: Partial<import("../../agent/index.js").AgentSettings> = {};
  if (flags.config !== undefined) {
    const { loadConfigFile } = await import("../config/index.js");
    file = agent.camelKeys(loadConfigFile(flags.config, agent.agentConfigSchema));
  }
  const { config, limit, fileRoot, ...given } = flags;
  const settings = { ...file, ...given };
  const from = config !== undefined ? ` (flag or '${config}')` : "";
  if (settings.data === undefined) throw new UsageError(`--data is required${from}`);
  if (settings.master === undefined) throw new UsageError(`--master is required${from}`);
  if (settings.masterKey === undefined) throw new UsageError(`--master-key is required${from}`);
  if (file.metrics !== undefined && flags.metrics === undefined) hostPort(file.metrics);
  const limits = await limitSettings(file.limits, limit ?? []);
  return {
    ...settings,
    data: settings.data,
    master: settings.master,
    masterKey: settings.masterKey,
    fileRoot: [...(file.fileRoot ?? []), ...(fileRoot ?? [])],
    limits,
  };
}

/** `limits:` of the file, then each `--limit KIND.KEY=VALUE` over it; a bad one is a usage error. */
async function limitSettings(
  file: import("../../agent/index.js").LimitWords | undefined,
  flags: readonly string[],
) {
  const { limitSettingsOf, mergeLimitWords, parseLimitFlag } = await import("../../agent/index.js");
  try {
    let words = {};
    for (const flag of flags) words = parseLimitFlag(flag, words);
    const merged = mergeLimitWords(file, words);
    // Checked here, so a bad one exits 2 like a bad flag.
    limitSettingsOf(merged);
    return merged;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function collect(text: string, previous: string[] = []): string[] {
  return [...previous, text];
}

function absoluteDir(text: string, previous: string[] = []): string[] {
  if (!text.startsWith("/")) throw new InvalidArgumentError("expected an absolute directory.");
  return [...previous, text];
}

/** `--ota FILE`, validated at the edge (E_CONFIG naming file, line and key). */
async function loadOtaConfig(file: string) {
  const [{ loadConfigFile }, { otaConfigSchema }] = await Promise.all([
    import("../config/index.js"),
    import("../../ota/index.js"),
  ]);
  return loadConfigFile<import("../../ota/index.js").OtaConfig>(file, otaConfigSchema);
}

/** `outpost agent start|uninstall|audit|key`: the node agent, its host and its identity. */
export const registerAgent: RegisterCommand = (program, context) => {
  const agent = program.command("agent").description("the node agent that converges this box");

  agent
    .command("start")
    .description(
      "run the node agent: sync with the master, install, run and check instances; runs until SIGINT or SIGTERM, which leave the workloads running",
    )
    .option(
      "--config <file>",
      "settings as YAML, keys named like these flags (data, master, master-key, file-root …); flags win",
    )
    .option("--data <dir>", "data directory: key, journal, software, partitions (required)")
    .option(
      "--master <endpoints>",
      "the master's node endpoint, tcp://HOST:PORT (required); several masters of one fleet comma-separated (tcp://a:5660,tcp://b:5660), or a DNS name with several addresses: the node holds one and moves to another within seconds when it dies or freezes",
    )
    .option(
      "--master-key <key>",
      "the master's public key (Z85, `outpost master key`; required): one for all of a fleet's masters",
    )
    .option("--name <name>", "the name this node was added under (checked against the master's)")
    .option("--partitions <n>", "how many partitions to offer (default 4)", partitionCount)
    .option("--sync-interval <seconds>", "pause between converge passes (default 5)", seconds)
    .option(
      "--file-root <dir>",
      "a directory whose files any release's build.fetch may name as file: sources (repeatable); a release may always fetch from its own descriptor's directory",
      absoluteDir,
    )
    .option(
      "--limit <kind.key=value>",
      "a default limit of every partition (instance.), build (build.) or command promise (promise.): memory, pids, cpu, open-files, and instance.disk; e.g. instance.memory=1Gi, build.cpu=max (repeatable; see agent/README.md)",
      collect,
    )
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
    .action(async (flags: StartFlags) => {
      const options = await startSettings(flags);
      const { isKeyText, LinkConfigError, parseEndpointList } = await import(
        "../../protocol/index.js"
      );
      try {
        parseEndpointList(options.master);
      } catch (err) {
        if (err instanceof LinkConfigError) throw new UsageError(`--master: ${err.message}`);
        throw err;
      }
      if (!isKeyText(options.masterKey)) {
        throw new UsageError("--master-key: expected the master's 40-character Z85 public key");
      }
      // The agent is a long-lived, mostly idle process on a small box: keep V8's young
      // generation at its initial size instead of letting bursts (module loads at start,
      // a converge pass) double it for good. Measured by `bench converge`: ~13 MB less
      // RSS (it is what loading the HTTP framework otherwise costs), same idle CPU.
      const { setFlagsFromString } = await import("node:v8");
      setFlagsFromString("--semi-space-growth-factor=1");
      const { startAgent } = await import("../../agent/index.js");
      const ota = options.ota ? { config: await loadOtaConfig(options.ota) } : undefined;
      const { ota: _path, ...settings } = options;
      const running = await startAgent({
        ...settings,
        agentVersion: packageInfo.version,
        logger: context.logger(),
        ...(ota ? { ota } : {}),
      });
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await running.close();
    });

  agent
    .command("uninstall")
    .description(
      "remove one agent's traces: its groups (killing what runs in them), the machine settings it held, its partition and build accounts, and its data directory; stop the agent first",
    )
    .requiredOption("--data <dir>", "the agent's data directory")
    .option("--json", "print what was removed as JSON")
    .action(async (options: { data: string; json?: boolean }) => {
      const { uninstallAgent } = await import("../../agent/index.js");
      const done = await uninstallAgent(options.data);
      if (options.json) {
        context.io.stdout.write(`${JSON.stringify(done)}\n`);
        return;
      }
      context.io.stdout.write(
        `removed ${done.dataDir}, ${done.accounts.length} account(s) (${done.accounts.join(", ") || "none"}), ${done.groups.length} group(s) (${done.groups.join(", ") || "none"})\n`,
      );
      for (const failure of done.knobFailures)
        context.io.stderr.write(`could not restore a machine setting: ${failure}\n`);
    });

  registerAgentAudit(agent, context);

  agent
    .command("key")
    .description("print this node's public key (Z85), creating the key pair on first use")
    .requiredOption("--data <dir>", "the agent's data directory")
    .action(async (options: { data: string }) => {
      const { loadOrCreateIdentity } = await import("../../agent/index.js");
      context.io.stdout.write(`${loadOrCreateIdentity(options.data).publicKey}\n`);
    });
};
