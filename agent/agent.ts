import { statfsSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { Cgroup, type CgroupLimits, readCpuTopology, resolveUser } from "../native/index.js";
import type { OtaConfig } from "../ota/index.js";
import { NodeLink, TelemetrySink } from "../protocol/index.js";
import { KnobJournal } from "../realtime/index.js";
import type { BackoffOptions } from "./backoff.js";
import { watchTrialBoot } from "./boot-trial.js";
import { Converger } from "./converge/converger.js";
import { type AgentNaming, Journal } from "./converge/journal.js";
import { SyncLoop } from "./converge/sync-loop.js";
import { checkTraversable, openAgentDataDir } from "./data-dir.js";
import { AgentConfigError } from "./errors.js";
import { loadOrCreateIdentity } from "./identity.js";
import { type AgentLimits, cgroupLimitsOf, type LimitSettings, resolveLimits } from "./limits.js";
import { TelemetryRelay } from "./local-api/telemetry-relay.js";
import type { AgentMetrics } from "./metrics.js";
import { buildsGroupName, partitionsGroupName, recordNaming } from "./naming.js";
import { moveIntoAgentLeaf } from "./partitions/agent-leaf.js";
import { logAddressGuard } from "./partitions/bind-guard.js";
import { openOrCreateChild, removeCgroupTree } from "./partitions/cgroup-child.js";
import { DiskQuotas } from "./partitions/disk-quota.js";
import type { WalkPace } from "./partitions/disk-usage.js";
import { ensurePartitions, type PartitionOptions } from "./partitions/partitions.js";
import { logSandbox } from "./partitions/sandbox.js";
import { grantableRlimits } from "./rt/grantable-rlimits.js";
import { NodeCores } from "./rt/node-cores.js";
import { RealtimeInstances } from "./rt/realtime-instances.js";
import { SoftwareStore } from "./software/software-store.js";

export interface AgentOptions {
  /** Data directory: key, journal, software, partitions. */
  data: string;
  /** The master's node endpoint, `tcp://HOST:PORT`. */
  master: string;
  /** The master's public key (Z85), pinned. */
  masterKey: string;
  partitions: number;
  /** The name the operator added this node under; a different one from the master is logged. */
  name?: string;
  agentVersion: string;
  logger: Logger;
  /** Default: isolated when running as root, laptop mode otherwise. */
  isolated?: boolean;
  /**
   * Group under which the agent makes `<prefix>partitions` (one group per partition) and
   * `<prefix>builds` (default: the agent's own group).
   */
  cgroupParent?: Cgroup;
  /**
   * Partition accounts are `<userPrefix>N` (default `<prefix>p`, where the prefix is
   * `outpost-` for /var/lib/outpost and derived from the data directory otherwise: see
   * naming.ts).
   */
  userPrefix?: string;
  /**
   * Each install builds as an account of its own, `<buildAccountPrefix><12 hex>`, made
   * for the build and removed after it (default `outpost-b`).
   */
  buildAccountPrefix?: string;
  /**
   * Default limits of every partition, build and command promise (`--limit`, `limits:`);
   * what is not given takes its default (see limits.ts: defaultLimits).
   */
  limits?: LimitSettings;
  /** Limits of each build's group, over `limits.build` (tests). */
  buildLimits?: CgroupLimits;
  /** Where the data filesystem has no project quota: how often partitions are measured (default 30 s). */
  diskIntervalMs?: number;
  /** ... and how fast one walk may go (default 1000 entries, then a 50 ms pause). */
  diskWalkPace?: WalkPace;
  /** The unprivileged account descriptors and `file:` sources are read as (default `nobody`). */
  readerUser?: string;
  /**
   * Directories whose files any release's `build.fetch` may name (`--file-root`); a
   * release may always fetch from below its own descriptor's directory.
   */
  fileRoots?: readonly string[];
  board?: string;
  syncIntervalMs?: number;
  fullPassMs?: number;
  usageIntervalMs?: number;
  restartBackoff?: BackoffOptions;
  installBackoff?: BackoffOptions;
  stopTimeoutMs?: number;
  /** How long a converge pass waits for one instance's action before going on (default 15 s). */
  actionBudgetMs?: number;
  /** Serve Prometheus metrics on this address (`/metrics`). */
  metrics?: { host: string; port: number };
  /**
   * How long a chunk or loss event relayed from a partition's local API waits for the
   * master's ack before the partition is answered 503 (default 10 s, below the
   * forwarder's default `ackTimeoutMs`).
   */
  relayTimeoutMs?: number;
  /** Whole cores never given to RT instances (default 1, the one with CPU 0). */
  housekeepingCores?: number;
  /**
   * The A/B update settings of an Outpost image: a trial boot is committed once this
   * agent is healthy, or rejected (and the box rebooted into the fallback).
   */
  ota?: { config: OtaConfig; reboot?: () => void };
}

/**
 * The RT side of an agent as root: the core planner over this box's topology, and the
 * knob journal, whose leftovers (a crashed agent's IRQ affinities, RT throttling) are
 * put back before anything starts; RT instances the journal adopts take them again.
 */
function openRealtime(
  dataDir: string,
  agentGroup: Cgroup,
  partitionsGroup: Cgroup,
  buildGroup: Cgroup | undefined,
  logger: Logger,
  options: AgentOptions,
): RealtimeInstances {
  const knobs = new KnobJournal(join(dataDir, "realtime", "knobs.json"));
  const failures = knobs.recover();
  if (failures.length > 0) logger.warn({ failures }, "realtime.restore_failed");
  return new RealtimeInstances({
    cores: new NodeCores(readCpuTopology(), options.housekeepingCores ?? 1),
    knobs,
    agentGroup,
    partitionsGroup,
    others: buildGroup ? [buildGroup] : [],
    logger,
  });
}

/**
 * The operator's limits over this machine's defaults (shares of its memory, cores and
 * data filesystem). Without CAP_SYS_RESOURCE (a container) no child's open files may
 * exceed the agent's own hard limit: they are clamped to it, and logged.
 */
function limitsFor(options: AgentOptions, dataDir: string, logger: Logger): AgentLimits {
  const fs = statfsSync(dataDir);
  const limits = resolveLimits(options.limits, {
    memoryBytes: totalmem(),
    cpus: availableParallelism(),
    diskBytes: fs.blocks * fs.bsize,
    partitions: options.partitions,
  });
  for (const kind of ["instance", "build", "promise"] as const) {
    const wanted = limits[kind].openFiles;
    const granted = grantableRlimits({ nofile: { soft: wanted, hard: wanted } }).rlimits.nofile;
    if (!granted || granted.hard >= wanted) continue;
    limits[kind].openFiles = granted.hard;
    logger.warn({ kind, wanted, granted: granted.hard }, "agent.open_files_clamped");
  }
  return limits;
}

/** The reader account must exist and must not be root: it is what keeps reads unprivileged. */
function checkReader(name: string): string {
  let user: ReturnType<typeof resolveUser>;
  try {
    user = resolveUser(name);
  } catch (err) {
    throw new AgentConfigError(`reader account '${name}' is unusable: ${(err as Error).message}`);
  }
  if (user.uid === 0) throw new AgentConfigError(`reader account '${name}' is root`);
  return name;
}

export interface RunningAgent {
  publicKey: string;
  /** Where the metrics are served, when asked for. */
  metricsUrl?: string;
  loop: SyncLoop;
  converger: Converger;
  /** Stops the agent and leaves every workload running (an upgrade or restart adopts them). */
  close(): Promise<void>;
  /**
   * Stops the agent and every workload; with `removeGroups` also removes its partition
   * and build groups, leaving no trace in the cgroup tree (the demo's stop).
   */
  shutdown(options?: { removeGroups?: boolean }): Promise<void>;
  /** What this agent named on the box (accounts, groups). */
  naming: AgentNaming;
}

/**
 * Starts the node agent: identity, partitions, software store, journal, then the
 * converge loop. What the journal says was running is adopted at once, before the master
 * is reached, so a restart while offline leaves workloads supervised.
 */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const logger = options.logger.child({ component: "agent" });
  const paths = openAgentDataDir(options.data);
  const keyPair = loadOrCreateIdentity(options.data);
  const isolated = options.isolated ?? process.getuid?.() === 0;
  if (!isolated) {
    // Said once: partitions then run as this user, without cgroups or real time.
    logger.warn({ uid: process.getuid?.() }, "agent.laptop_mode");
  }
  if (isolated) checkTraversable(paths.dir);
  const own = isolated ? (options.cgroupParent ?? moveIntoAgentLeaf(Cgroup.own())) : undefined;
  const journal = Journal.open(join(paths.dir, "journal.json"));
  const naming = recordNaming(journal, paths.dir, own?.dirs);
  const limits = limitsFor(options, paths.dir, logger);
  logger.info({ limits }, "agent.limits");
  logSandbox(logger);
  const partitionOptions: PartitionOptions = {
    limits: { instance: limits.instance, promise: limits.promise },
    root: paths.partitions,
    logRoot: paths.logs,
    userPrefix: options.userPrefix ?? `${naming.prefix}p`,
    isolated,
    ...(own ? { cgroupParent: openOrCreateChild(own, partitionsGroupName(naming.prefix)) } : {}),
  };
  let buildCgroup: Cgroup | undefined;
  if (own) {
    // Builds a killed agent left behind are killed: their installs start over.
    await removeCgroupTree(openOrCreateChild(own, buildsGroupName(naming.prefix)));
    buildCgroup = openOrCreateChild(own, buildsGroupName(naming.prefix));
  }
  const made = ensurePartitions(partitionOptions, options.partitions);
  logAddressGuard(logger, made);
  // Disk limits need root (project ids, reading every partition's files): none in laptop mode.
  const disk = isolated
    ? new DiskQuotas({
        roots: { partitions: paths.partitions, logs: paths.logs },
        prefix: naming.prefix,
        bytes: limits.instance.disk,
        ...(options.diskIntervalMs !== undefined ? { intervalMs: options.diskIntervalMs } : {}),
        ...(options.diskWalkPace ? { pace: options.diskWalkPace } : {}),
        logger,
        onChange: () => loop?.wake(),
      })
    : undefined;
  for (const p of made) {
    disk?.prepare(p);
    if (p.limitsError !== undefined)
      logger.warn({ partition: p.number, error: p.limitsError }, "partition.limits_failed");
  }
  const realtime =
    own && partitionOptions.cgroupParent
      ? openRealtime(paths.dir, own, partitionOptions.cgroupParent, buildCgroup, logger, options)
      : undefined;
  const reader = isolated ? checkReader(options.readerUser ?? "nobody") : undefined;
  const software = SoftwareStore.open({
    root: paths.software,
    records: paths.records,
    builds: paths.builds,
    access: {
      fileRoots: options.fileRoots ?? [],
      forbidden: [paths.dir],
      ...(reader ? { reader } : {}),
    },
    ...(isolated ? { buildAccountPrefix: options.buildAccountPrefix ?? `${naming.prefix}b` } : {}),
    ...(buildCgroup
      ? {
          buildCgroup,
          buildLimits: options.buildLimits ?? cgroupLimitsOf(limits.build),
          buildOpenFiles: limits.build.openFiles,
        }
      : {}),
    logger,
    ...(options.installBackoff ? { backoff: options.installBackoff } : {}),
  });
  let loop: SyncLoop | undefined;
  // What partitions forward through their local API goes out on a link of its own: a
  // backlog draining never queues ahead of sync and report. Made before the converger:
  // instances adopted below serve it at once.
  const telemetry = new TelemetrySink(
    new NodeLink({
      endpoint: options.master,
      masterPublicKey: options.masterKey,
      keyPair,
      timeoutMs: options.relayTimeoutMs ?? 10_000,
    }),
    logger.child({ component: "telemetry-link" }),
  );
  const converger = new Converger({
    journal,
    software,
    partitions: {
      ...partitionOptions,
      telemetry: new TelemetryRelay(telemetry, logger, (p) => journal.epoch(p)),
    },
    logger,
    backoff: options.restartBackoff ?? { initialMs: 1000, maxMs: 60_000 },
    stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
    stableMs: 30_000,
    selfRepair: { afterFailures: 5, maxRepairs: 3 },
    apiDir: paths.api,
    ...(realtime ? { realtime } : {}),
    wake: () => loop?.wake(),
    ...(options.actionBudgetMs !== undefined ? { actionBudgetMs: options.actionBudgetMs } : {}),
    ...(disk ? { disk } : {}),
  });
  disk?.start();
  if (journal.desired) await converger.apply(journal.desired);
  const link = new NodeLink({
    endpoint: options.master,
    masterPublicKey: options.masterKey,
    keyPair,
    timeoutMs: 3000,
  });
  // prom-client costs ~10 MB of RSS: loaded only when metrics are served.
  let metrics: AgentMetrics | undefined;
  let served: Awaited<ReturnType<typeof import("./metrics.js").serveMetrics>> | undefined;
  if (options.metrics) {
    const { AgentMetrics, serveMetrics } = await import("./metrics.js");
    metrics = new AgentMetrics({
      instances: () => converger.report().instances,
      restarts: () => converger.restarts(),
      online: () => loop?.online === true,
      installFailures: () => software.failureCount(),
    });
    served = await serveMetrics(metrics, options.metrics.host, options.metrics.port);
  }
  loop = new SyncLoop({
    ...(metrics ? { metrics } : {}),
    link,
    converger,
    journal,
    hello: {
      agentVersion: options.agentVersion,
      arch: process.arch,
      board: options.board ?? "generic",
      cpus: availableParallelism(),
      partitions: options.partitions,
      isolatedCores: readCpuTopology().isolated,
    },
    logger,
    ...(options.name !== undefined ? { name: options.name } : {}),
    syncIntervalMs: options.syncIntervalMs ?? 5000,
    fullPassMs: options.fullPassMs ?? 600_000,
    usageIntervalMs: options.usageIntervalMs ?? 60_000,
  });
  logger.info(
    {
      publicKey: keyPair.publicKey,
      master: options.master,
      partitions: options.partitions,
      isolated,
    },
    "agent.started",
  );
  const running = loop;
  const trial = options.ota
    ? watchTrialBoot(options.ota.config, running, converger, logger, options.ota.reboot)
    : undefined;
  // Closed last, once no local API can take a relay any more.
  const closeTelemetry = async (): Promise<void> => {
    try {
      await telemetry.close();
    } catch (err) {
      logger.warn({ err }, "agent.link_close_failed");
    }
  };
  const stopLoop = async (): Promise<void> => {
    trial?.stop();
    await disk?.stop();
    await running.close();
    served?.server.closeAllConnections();
    await new Promise((r) => (served ? served.server.close(r) : r(undefined)));
    try {
      await link.close();
    } catch (err) {
      logger.warn({ err }, "agent.link_close_failed");
    }
  };
  return {
    publicKey: keyPair.publicKey,
    ...(served ? { metricsUrl: served.url } : {}),
    loop: running,
    converger,
    close: async () => {
      await stopLoop();
      await converger.detach();
      await closeTelemetry();
      logger.info({}, "agent.stopped");
    },
    shutdown: async (how = {}) => {
      await stopLoop();
      await converger.stopAll();
      await closeTelemetry();
      if (how.removeGroups) {
        for (const group of [partitionOptions.cgroupParent, buildCgroup])
          if (group) await removeCgroupTree(group);
      }
      logger.info({}, "agent.stopped");
    },
    naming,
  };
}
