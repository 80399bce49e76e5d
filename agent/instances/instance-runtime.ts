import { join } from "node:path";
import type { Logger } from "pino";
import type { Cgroup, CgroupLimits } from "../../native/index.js";
import type { BufferBacklog, InstanceStatus, PromiseResult } from "../../protocol/index.js";
import type { BackoffOptions } from "../backoff.js";
import { LocalApi } from "../local-api/local-api.js";
import { openOrCreateChild } from "../partitions/cgroup-child.js";
import type { Partition } from "../partitions/partitions.js";
import { PromiseChecker } from "../promises/promise-checker.js";
import { DEFAULT_LOG_ROTATION, type LogRotation, rotateLog } from "../supervisor/log-rotation.js";
import type { ProcessIdentity } from "../supervisor/process-identity.js";
import { SupervisedProcess } from "../supervisor/supervised-process.js";
import type { RenderedInstance } from "./render.js";
import { writeInstanceFiles } from "./write-files.js";

export interface InstanceRuntimeOptions {
  name: string;
  partition: Partition;
  rendered: RenderedInstance;
  logger: Logger;
  backoff: BackoffOptions;
  stopTimeoutMs: number;
  stableMs: number;
  selfRepair: { afterFailures: number; maxRepairs: number };
  /**
   * Isolated cores the master reserved for the instance: its processes are pinned to
   * them (affinity, and the cpuset of their groups). Empty: no pinning.
   */
  cores?: readonly number[];
  logRotation?: LogRotation;
  /**
   * Where to serve the partition's local API (unix socket); its path reaches every
   * process as `OUTPOST_API`. Absent: no API. With the partition's `telemetry` relay it
   * also takes the partition's telemetry for the master.
   */
  apiSocket?: string;
  /** Values published through the API before (kept across agent restarts by the journal). */
  published?: Readonly<Record<string, string>>;
  /** Called when a process starts, stops or is restarted: the caller journals identities. */
  onChange: () => void;
}

/** Where a partition's process logs go: `<logs>/pN/<process>.log`, root-owned. */
export function logFileOf(partition: Partition, process: string): string {
  return join(partition.logPath, `${process}.log`);
}

/**
 * One instance running in its partition: its files, its processes (each in its own
 * cgroup below the partition's, with the descriptor's limits) and its promises.
 */
/** The window of a backlog's `peakRecords`. */
const BACKLOG_PEAK_WINDOW_MS = 60_000;

export class InstanceRuntime {
  readonly processes: SupervisedProcess[] = [];
  readonly checker: PromiseChecker;
  private readonly logger: Logger;
  private api: LocalApi | undefined;
  /** Published through the local API, on top of the descriptor's `publish`. */
  published: Record<string, string>;
  private lastBacklog: BufferBacklog | undefined;
  private readonly backlogSamples: { at: number; records: number }[] = [];

  constructor(private readonly options: InstanceRuntimeOptions) {
    this.logger = options.logger.child({ instance: options.name });
    this.published = { ...options.published };
    const { partition } = options;
    this.checker = new PromiseChecker(
      options.rendered.promises.map((p) => ({
        name: p.name,
        intervalMs: p.intervalMs,
        timeoutMs: p.timeoutMs,
        probe:
          p.probe.kind === "command"
            ? {
                ...p.probe,
                ...(partition.isolated ? { user: partition.user } : {}),
                ...this.groupFor(`promise-${p.name}`),
              }
            : p.probe,
      })),
      {
        logger: this.logger,
        selfRepair: { ...options.selfRepair, repair: () => this.restartProcesses() },
        onFlip: () => options.onChange(),
      },
    );
  }

  get name(): string {
    return this.options.name;
  }

  /**
   * Writes the files, then for each process adopts the one in `adoptable` if it still
   * runs (an agent restart does not restart workloads), otherwise kills whatever an
   * interrupted start left in its group and starts it. Starts the promise checks.
   */
  async start(adoptable: Readonly<Record<string, ProcessIdentity>> = {}): Promise<void> {
    await writeInstanceFiles(this.options.partition, this.options.rendered.files);
    const { partition, rendered, apiSocket } = this.options;
    if (apiSocket) await this.openApi(apiSocket);
    for (const spec of rendered.processes) {
      const cores = this.options.cores ?? [];
      const pinned = cores.length > 0 ? { cpus: cores } : {};
      const group = this.groupFor(`proc-${spec.name}`, { ...spec.limits, ...pinned });
      const supervised = new SupervisedProcess(
        {
          name: spec.name,
          command: spec.command,
          args: spec.args,
          env: apiSocket ? { ...spec.env, OUTPOST_API: apiSocket } : spec.env,
          cwd: partition.path,
          ...(partition.isolated ? { user: partition.user } : {}),
          ...group,
          ...pinned,
          logFile: logFileOf(partition, spec.name),
        },
        {
          restart: spec.restart,
          backoff: this.options.backoff,
          stopTimeoutMs: this.options.stopTimeoutMs,
          stableMs: this.options.stableMs,
          logger: this.logger,
          onChange: () => this.options.onChange(),
        },
      );
      this.processes.push(supervised);
      const known = adoptable[spec.name];
      if (known && supervised.adopt(known)) continue;
      if (group.cgroup && !group.cgroup.isEmpty()) {
        this.logger.warn(
          { process: spec.name, pids: group.cgroup.procs() },
          "process.orphans_killed",
        );
        await group.cgroup.kill();
      }
      supervised.start();
    }
    this.checker.start();
  }

  /** Stops the promise checks and every process (SIGTERM, then the group kill). */
  async stop(): Promise<void> {
    this.checker.stop();
    await Promise.all(this.processes.map((p) => p.stop()));
    await this.api?.close();
    this.api = undefined;
  }

  /** Leaves every process running, unsupervised (agent shutdown); closes the local API. */
  async detach(): Promise<void> {
    this.checker.stop();
    for (const p of this.processes) p.detach();
    await this.api?.close();
    this.api = undefined;
  }

  identities(): Record<string, ProcessIdentity> {
    const out: Record<string, ProcessIdentity> = {};
    for (const p of this.processes) if (p.identity) out[p.name] = p.identity;
    return out;
  }

  /**
   * `running` when every process runs (or ended as its policy allows), `starting` while
   * one waits for a restart, `failed` when one ended for good with a failure.
   */
  status(): InstanceStatus {
    if (this.processes.some((p) => p.state === "exited" && p.lastExit?.code !== 0)) return "failed";
    if (this.processes.some((p) => p.state === "backoff")) return "starting";
    return "running";
  }

  /** Latest results; after a self-repair, failing ones say how many were spent. */
  promiseResults(): PromiseResult[] {
    const repairs = this.checker.repairs;
    const { maxRepairs } = this.options.selfRepair;
    return this.checker
      .results()
      .map((r) =>
        r.ok || repairs === 0
          ? r
          : { ...r, message: `${r.message ?? "failed"} (self-repairs: ${repairs}/${maxRepairs})` },
      );
  }

  /** Writes the instance's files again, as rendered (drift repair). */
  async rewriteFiles(): Promise<void> {
    await writeInstanceFiles(this.options.partition, this.options.rendered.files);
  }

  ready(): boolean {
    return this.status() === "running" && this.checker.ready();
  }

  /** What the instance's buffer forwarder last said it has not delivered. */
  backlog(): BufferBacklog | undefined {
    return this.lastBacklog;
  }

  /** Connection parameters: the descriptor's `publish`, then what the instance published. */
  publish(): Record<string, string> {
    return { ...this.options.rendered.publish, ...this.published };
  }

  private async openApi(socketPath: string): Promise<void> {
    const { partition } = this.options;
    this.api = await LocalApi.open(
      socketPath,
      partition.isolated ? partition.gid : undefined,
      {
        name: this.options.name,
        parameters: this.options.rendered.parameters,
        connection: () => this.publish(),
        publish: (values) => {
          this.published = { ...this.published, ...values };
          this.logger.info({ keys: Object.keys(values) }, "instance.published");
          this.options.onChange();
        },
        backlog: (backlog) => {
          const at = Date.now();
          this.backlogSamples.push({ at, records: backlog.records });
          while ((this.backlogSamples[0]?.at ?? at) < at - BACKLOG_PEAK_WINDOW_MS)
            this.backlogSamples.shift();
          const peakRecords = Math.max(...this.backlogSamples.map((s) => s.records));
          this.lastBacklog = { ...backlog, peakRecords, at };
        },
      },
      this.logger,
      partition.telemetry ? { relay: partition.telemetry, partition: partition.number } : undefined,
    );
  }

  rotateLogs(): void {
    for (const p of this.processes)
      rotateLog(p.launch.logFile, this.options.logRotation ?? DEFAULT_LOG_ROTATION);
  }

  private async restartProcesses(): Promise<void> {
    await Promise.all(
      this.processes.map(async (p) => {
        await p.stop();
        p.start();
      }),
    );
  }

  /** A group below the partition's for one process or promise; none in laptop mode. */
  private groupFor(name: string, limits: CgroupLimits = {}): { cgroup?: Cgroup } {
    const parent = this.options.partition.cgroup;
    if (!parent) return {};
    const group = openOrCreateChild(parent, name);
    group.setLimits(limits);
    return { cgroup: group };
  }
}
