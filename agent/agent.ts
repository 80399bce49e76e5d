import { statfsSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import { join } from "node:path";
import type { BackoffOptions, Logger } from "../common/index.js";
import { Cgroup, readCpuTopology, resolveUser } from "../native/index.js";
import type { OtaConfig } from "../ota/index.js";
import { type KeyPair, NodeLink, TelemetrySink } from "../protocol/index.js";
import { KnobJournal } from "../realtime/index.js";
import { watchTrialBoot } from "./boot-trial.js";
import { Converger } from "./converge/converger.js";
import { type AgentNaming, Journal } from "./converge/journal.js";
import { SyncLoop } from "./converge/sync-loop.js";
import { checkTraversable, openAgentDataDir } from "./data-dir.js";
import { AgentConfigError } from "./errors.js";
import { loadOrCreateIdentity } from "./identity.js";
import { limitSettingsOf } from "./limit-settings.js";
import { type AgentLimits, cgroupLimitsOf, resolveLimits } from "./limits.js";
import { TelemetryRelay } from "./local-api/telemetry-relay.js";
import type { AgentMetrics } from "./metrics.js";
import { buildsGroupName, partitionsGroupName, recordNaming } from "./naming.js";
import { moveIntoAgentLeaf } from "./partitions/agent-leaf.js";
import { logAddressGuard } from "./partitions/bind-guard.js";
import { openOrCreateChild, removeCgroupTree } from "./partitions/cgroup-child.js";
import { DiskQuotas } from "./partitions/disk-quota.js";
import { ensurePartitions, type PartitionOptions } from "./partitions/partitions.js";
import { logSandbox } from "./partitions/sandbox.js";
import { RealtimeInstances } from "./rt/core-reservations.js";
import { grantableRlimits } from "./rt/grantable-rlimits.js";
import { NodeCores } from "./rt/node-cores.js";
import {
  type AgentSettings,
  type AgentSettingsInput,
  hostPortOf,
  masterEndpoints,
  ms,
  resolveAgentSettings,
} from "./settings.js";
import { SoftwareStore } from "./software/software-store.js";

/**
 * What `startAgent` takes: the agent's settings (`settings.ts`: one schema, the words of
 * the YAML file and the flags in camelCase, defaults filled in there), and what is not a
 * setting.
 */
export type AgentOptions = Omit<AgentSettingsInput, "ota"> & {
  agentVersion: string;
  logger: Logger;
  /**
   * The content of the `ota` settings file (read at the edge, like every config file):
   * a trial boot is committed once this agent is healthy, or rejected (and the box
   * rebooted into the fallback).
   */
  ota?: { config: OtaConfig; reboot?: () => void };
};

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
  housekeepingCores: number,
): RealtimeInstances {
  const knobs = new KnobJournal(join(dataDir, "realtime", "knobs.json"));
  const failures = knobs.recover();
  if (failures.length > 0) logger.warn({ failures }, "realtime.restore_failed");
  return new RealtimeInstances({
    cores: new NodeCores(readCpuTopology(), housekeepingCores),
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
function limitsFor(settings: AgentSettings, dataDir: string, logger: Logger): AgentLimits {
  const fs = statfsSync(dataDir);
  const limits = resolveLimits(limitSettingsOf(settings.limits), {
    memoryBytes: totalmem(),
    cpus: availableParallelism(),
    diskBytes: fs.blocks * fs.bsize,
    partitions: settings.partitions,
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

/**
 * What both of the agent's links to the master share: every master endpoint (one key
 * pair for the fleet), the node's key, the heartbeats when set.
 */
function linkOptions(settings: AgentSettings, keyPair: KeyPair, logger: Logger) {
  const beat = settings.heartbeat;
  return {
    endpoint: masterEndpoints(settings),
    masterPublicKey: settings.masterKey,
    keyPair,
    logger,
    ...(beat ? { heartbeat: { intervalMs: ms(beat.interval), timeoutMs: ms(beat.timeout) } } : {}),
  };
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

/** A backoff setting (seconds) as the supervisor and the store take it. */
function backoffOf(b: AgentSettings["restartBackoff"]): BackoffOptions {
  return { initialMs: ms(b.initial), maxMs: ms(b.max) };
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
  const { agentVersion, logger: rootLogger, ota, ...given } = options;
  const settings = resolveAgentSettings(given);
  const logger = rootLogger.child({ component: "agent" });
  const paths = openAgentDataDir(settings.data);
  const keyPair = loadOrCreateIdentity(settings.data);
  const isolated = settings.isolated ?? process.getuid?.() === 0;
  if (!isolated) {
    // Said once: partitions then run as this user, without cgroups or real time.
    logger.warn({ uid: process.getuid?.() }, "agent.laptop_mode");
  }
  if (isolated) checkTraversable(paths.dir);
  const own = !isolated
    ? undefined
    : settings.cgroupParent !== undefined
      ? openOrCreateChild(Cgroup.own(), settings.cgroupParent)
      : moveIntoAgentLeaf(Cgroup.own());
  const journal = Journal.open(join(paths.dir, "journal.json"));
  const naming = recordNaming(journal, paths.dir, own?.dirs);
  const limits = limitsFor(settings, paths.dir, logger);
  logger.info({ limits }, "agent.limits");
  logSandbox(logger);
  const partitionOptions: PartitionOptions = {
    limits: { instance: limits.instance, promise: limits.promise },
    root: paths.partitions,
    logRoot: paths.logs,
    userPrefix: settings.userPrefix ?? `${naming.prefix}p`,
    isolated,
    ...(own ? { cgroupParent: openOrCreateChild(own, partitionsGroupName(naming.prefix)) } : {}),
  };
  let buildCgroup: Cgroup | undefined;
  if (own) {
    // Builds a killed agent left behind are killed: their installs start over.
    await removeCgroupTree(openOrCreateChild(own, buildsGroupName(naming.prefix)));
    buildCgroup = openOrCreateChild(own, buildsGroupName(naming.prefix));
  }
  const made = ensurePartitions(partitionOptions, settings.partitions);
  logAddressGuard(logger, made);
  // Disk limits need root (project ids, reading every partition's files): none in laptop mode.
  const disk = isolated
    ? new DiskQuotas({
        roots: { partitions: paths.partitions, logs: paths.logs },
        prefix: naming.prefix,
        bytes: limits.instance.disk,
        intervalMs: ms(settings.diskInterval),
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
      ? openRealtime(
          paths.dir,
          own,
          partitionOptions.cgroupParent,
          buildCgroup,
          logger,
          settings.housekeepingCores,
        )
      : undefined;
  const reader = isolated ? checkReader(settings.readerUser) : undefined;
  const software = SoftwareStore.open({
    root: paths.software,
    records: paths.records,
    builds: paths.builds,
    access: {
      fileRoots: settings.fileRoot,
      forbidden: [paths.dir],
      ...(reader ? { reader } : {}),
    },
    ...(isolated ? { buildAccountPrefix: settings.buildAccountPrefix ?? `${naming.prefix}b` } : {}),
    ...(buildCgroup
      ? {
          buildCgroup,
          buildLimits: cgroupLimitsOf(limits.build),
          buildOpenFiles: limits.build.openFiles,
        }
      : {}),
    logger,
    backoff: backoffOf(settings.installBackoff),
  });
  let loop: SyncLoop | undefined;
  // What partitions forward through their local API goes out on a link of its own: a
  // backlog draining never queues ahead of sync and report. Made before the converger:
  // instances adopted below serve it at once.
  const telemetryLink = new NodeLink({
    ...linkOptions(settings, keyPair, logger.child({ component: "telemetry-link" })),
    timeoutMs: ms(settings.relayTimeout),
  });
  const telemetry = new TelemetrySink(telemetryLink, logger.child({ component: "telemetry-link" }));
  const converger = new Converger({
    journal,
    software,
    partitions: {
      ...partitionOptions,
      telemetry: new TelemetryRelay(telemetry, logger, (p) => journal.epoch(p)),
    },
    logger,
    backoff: backoffOf(settings.restartBackoff),
    stopTimeoutMs: ms(settings.stopTimeout),
    stableMs: 30_000,
    selfRepair: { afterFailures: 5, maxRepairs: 3 },
    apiDir: paths.api,
    ...(realtime ? { realtime } : {}),
    wake: () => loop?.wake(),
    actionBudgetMs: ms(settings.actionBudget),
    ...(disk ? { disk } : {}),
  });
  disk?.start();
  if (journal.desired) await converger.apply(journal.desired);
  const link = new NodeLink({
    ...linkOptions(settings, keyPair, logger.child({ component: "control-link" })),
    timeoutMs: 3000,
    // The master's push: this node's desired state changed. A pass now (one more after
    // the pass in progress, however many wakes come meanwhile), not at the next interval.
    onWake: () => loop?.wake(),
    // A new master knows nothing of this link yet: hello and sync at once, not next pass.
    onFailover: () => loop?.relinked(),
  });
  // prom-client costs ~10 MB of RSS: loaded only when metrics are served.
  let metrics: AgentMetrics | undefined;
  let served: Awaited<ReturnType<typeof import("./metrics.js").serveMetrics>> | undefined;
  const metricsAt = settings.metrics !== undefined ? hostPortOf(settings.metrics) : undefined;
  if (settings.metrics !== undefined && !metricsAt)
    throw new AgentConfigError(`metrics: '${settings.metrics}' is not HOST:PORT`);
  if (metricsAt) {
    const { AgentMetrics, serveMetrics } = await import("./metrics.js");
    metrics = new AgentMetrics({
      instances: () => converger.report().instances,
      restarts: () => converger.restarts(),
      online: () => loop?.online === true,
      installFailures: () => software.failureCount(),
      failovers: () => ({ control: link.failovers, telemetry: telemetryLink.failovers }),
    });
    served = await serveMetrics(metrics, metricsAt.host, metricsAt.port, logger);
  }
  loop = new SyncLoop({
    ...(metrics ? { metrics } : {}),
    link,
    converger,
    journal,
    hello: {
      agentVersion,
      arch: process.arch,
      board: settings.board,
      cpus: availableParallelism(),
      partitions: settings.partitions,
      isolatedCores: readCpuTopology().isolated,
    },
    logger,
    ...(settings.name !== undefined ? { name: settings.name } : {}),
    syncIntervalMs: ms(settings.syncInterval),
    fullPassMs: ms(settings.fullPass),
    usageIntervalMs: ms(settings.usageInterval),
  });
  logger.info(
    {
      publicKey: keyPair.publicKey,
      master: settings.master,
      partitions: settings.partitions,
      isolated,
    },
    "agent.started",
  );
  const running = loop;
  const trial = ota
    ? watchTrialBoot(ota.config, running, converger, logger, ota.reboot)
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
    await served?.close();
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
