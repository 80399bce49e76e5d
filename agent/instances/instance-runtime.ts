import { join } from "node:path";
import type { BackoffOptions, Logger } from "../../common/index.js";
import type { Cgroup, CgroupLimits } from "../../native/index.js";
import type { BufferBacklog, InstanceStatus, PromiseResult } from "../../protocol/index.js";
import { isolateCpus } from "../../realtime/index.js";
import { capToCeiling, cgroupLimitsOf, openFilesRlimit } from "../limits.js";
import { LocalApi } from "../local-api/local-api.js";
import { openOrCreateChild } from "../partitions/cgroup-child.js";
import type { Partition } from "../partitions/partitions.js";
import { partitionSandbox, type Sandbox } from "../partitions/sandbox.js";
import { PromiseChecker } from "../promises/promise-checker.js";
import { grantableRlimits } from "../rt/grantable-rlimits.js";
import { checkRealtime } from "../rt/realtime-promise.js";
import { ensureRtRuntime } from "../rt/v1-rt-runtime.js";
import { logTail } from "../software/build-step.js";
import { DEFAULT_LOG_ROTATION, type LogRotation } from "../supervisor/log-rotation.js";
import { LogWatcher } from "../supervisor/log-watcher.js";
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
  /** The instance holds whole cores: where each of its processes runs. */
  realtime?: InstanceRealtime;
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

/** An RT instance's cores, as the converger reserved them. */
export interface InstanceRealtime {
  /** Its whole cores. */
  cpus: readonly number[];
  /** Where its other processes and its promise checks run (the node's shared CPUs). */
  shared: readonly number[];
  /** Process name → the CPUs it is pinned to (its cgroup's cpuset and its affinity). */
  slices: Readonly<Record<string, readonly number[]>>;
  /** The agent's group down to the partition's: where v1 RT runtime is handed down. */
  runtimeChain: readonly Cgroup[];
  /** Groups that must stay off `cpus` (for the `realtime` promise). */
  confined: () => readonly Cgroup[];
  /** What the machine holds for it (IRQs moved, PM QoS), shown by the promise. */
  notes: readonly string[];
}

/** Pseudo-promises `process:NAME` carry a process that cannot start or crash-loops. */
export const PROCESS_PROMISE_PREFIX = "process:";

/** The promise an RT instance gets from the agent itself. */
export const REALTIME_PROMISE = "realtime";
const REALTIME_CHECK_MS = 5_000;

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
  /** Found while starting (kernel partition refused, limits clamped), shown by the promise. */
  private readonly rtNotes: string[] = [];
  private readonly backlogSamples: { at: number; records: number }[] = [];
  /** no_new_privs and the default seccomp filter plus the release's own denials. */
  private readonly sandbox: Sandbox;
  /** Rotates the processes' logs as soon as they cross their size, while the instance runs. */
  private readonly logs: LogWatcher;

  constructor(private readonly options: InstanceRuntimeOptions) {
    this.logger = options.logger.child({ instance: options.name });
    this.published = { ...options.published };
    this.sandbox = partitionSandbox(options.rendered.seccompDeny);
    this.logs = new LogWatcher({
      files: () => this.processes.map((p) => p.launch.logFile),
      rotation: options.logRotation ?? DEFAULT_LOG_ROTATION,
      logger: this.logger,
    });
    const { partition, realtime } = options;
    const checkCpus: CgroupLimits = realtime ? { cpus: realtime.shared } : {};
    // A command check gets the node's promise limits, within its partition's.
    const checkLimits = partition.limits
      ? capToCeiling(cgroupLimitsOf(partition.limits.promise), partition.limits.instance).limits
      : {};
    const checkFiles = partition.limits ? { openFiles: partition.limits.promise.openFiles } : {};
    const promises = options.rendered.promises.map((p) => ({
      name: p.name,
      intervalMs: p.intervalMs,
      timeoutMs: p.timeoutMs,
      probe:
        p.probe.kind === "command"
          ? {
              ...p.probe,
              ...(partition.isolated ? { user: partition.user } : {}),
              ...this.groupFor(`promise-${p.name}`, { ...checkLimits, ...checkCpus }),
              ...checkFiles,
              sandbox: this.sandbox,
            }
          : (p.probe.kind === "tcp" || p.probe.kind === "http") && partition.isolated
            ? { ...p.probe, owner: { address: partition.address, uid: partition.uid } }
            : p.probe,
    }));
    if (realtime) promises.push(this.realtimePromise(realtime));
    this.checker = new PromiseChecker(promises, {
      logger: this.logger,
      selfRepair: { ...options.selfRepair, repair: () => this.restartProcesses() },
      onFlip: () => options.onChange(),
    });
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
    const realtime = this.options.realtime;
    for (const spec of rendered.processes) {
      const slice = realtime?.slices[spec.name];
      const pinned = slice ? { cpus: slice } : {};
      // What the release declares holds within the partition's limits, never above.
      const declared = capToCeiling(spec.limits, partition.limits?.instance);
      if (declared.capped.length > 0)
        this.logger.warn(
          { process: spec.name, capped: declared.capped, limits: declared.limits },
          "process.resources_capped",
        );
      const group = this.groupFor(`proc-${spec.name}`, {
        ...declared.limits,
        ...(realtime ? { cpus: slice ?? realtime.shared } : {}),
      });
      const sched = slice ? spec.realtime?.sched : undefined;
      if (group.cgroup && (sched?.policy === "fifo" || sched?.policy === "rr"))
        ensureRtRuntime([...(realtime?.runtimeChain ?? []), group.cgroup]);
      if (slice && group.cgroup && realtime) this.isolate(spec.name, group.cgroup, slice, realtime);
      const granted = spec.realtime ? grantableRlimits(spec.realtime.rlimits) : undefined;
      if (granted) this.rtNotes.push(...granted.notes.map((n) => `${spec.name}: ${n}`));
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
          ...(sched ? { sched } : {}),
          ...(granted || partition.limits
            ? {
                rlimits: {
                  ...(partition.limits
                    ? { nofile: openFilesRlimit(partition.limits.instance) }
                    : {}),
                  ...granted?.rlimits,
                },
              }
            : {}),
          logFile: logFileOf(partition, spec.name),
          sandbox: this.sandbox,
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
    this.logs.start();
  }

  /** Stops the promise checks and every process (SIGTERM, then the group kill). */
  async stop(): Promise<void> {
    this.checker.stop();
    this.logs.stop();
    await Promise.all(this.processes.map((p) => p.stop()));
    await this.api?.close();
    this.api = undefined;
  }

  /** Leaves every process running, unsupervised (agent shutdown); closes the local API. */
  async detach(): Promise<void> {
    this.checker.stop();
    this.logs.stop();
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
    if (this.failures().length > 0) return "failed";
    if (this.processes.some((p) => p.state === "backoff")) return "starting";
    return "running";
  }

  /**
   * Each process that cannot start or is in a crash loop, as a failed pseudo-promise
   * `process:NAME` whose message says what, the last exit and the last lines of its log:
   * what the master shows without anyone reading the agent's log.
   */
  failures(now = Date.now()): PromiseResult[] {
    const out: PromiseResult[] = [];
    for (const p of this.processes) {
      const failure = p.failure(now);
      if (!failure) continue;
      const exit = failure.lastExit
        ? failure.lastExit.signal !== null
          ? `; last killed by signal ${failure.lastExit.signal}`
          : failure.lastExit.code !== null
            ? `; last exit status ${failure.lastExit.code}`
            : ""
        : "";
      const tail = logTail(p.launch.logFile, 5);
      out.push({
        name: `${PROCESS_PROMISE_PREFIX}${p.name}`,
        ok: false,
        message: `${failure.code}: ${failure.message}${exit}${tail ? `; log: ${tail.replaceAll("\n", " | ")}` : ""}`,
        checkedAt: now,
      });
    }
    return out;
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

  private async restartProcesses(): Promise<void> {
    await Promise.all(
      this.processes.map(async (p) => {
        await p.stop();
        p.start();
      }),
    );
  }

  private realtimePromise(realtime: InstanceRealtime) {
    const processes = this.options.rendered.processes
      .filter((p) => realtime.slices[p.name] !== undefined)
      .map((p) => ({
        name: p.name,
        pid: () => this.processes.find((s) => s.name === p.name)?.identity?.pid,
        cpus: realtime.slices[p.name] ?? [],
        ...(p.realtime ? { sched: p.realtime.sched } : {}),
      }));
    return {
      name: REALTIME_PROMISE,
      intervalMs: REALTIME_CHECK_MS,
      timeoutMs: REALTIME_CHECK_MS,
      probe: {
        kind: "check" as const,
        run: () =>
          checkRealtime({
            processes,
            cpus: realtime.cpus,
            confined: realtime.confined,
            notes: [...realtime.notes, ...this.rtNotes],
          }),
      },
    };
  }

  /**
   * Asks the kernel for a scheduler-isolated partition on the process's cores (v2
   * `isolated`, v1 exclusive without load balancing). Nested below the agent's group it
   * is refused unless every ancestor is a partition too; the cores stay the process's
   * alone either way (every other group is confined off them), so a refusal is noted,
   * not fatal.
   */
  private isolate(
    name: string,
    group: Cgroup,
    cpus: readonly number[],
    rt: InstanceRealtime,
  ): void {
    try {
      isolateCpus(group, cpus, { shared: rt.shared });
      this.rtNotes.push(`${name}: scheduler-isolated partition`);
    } catch (err) {
      try {
        group.setLimits({ partition: "member" });
      } catch {
        // Refused before anything changed: nothing to undo.
      }
      this.rtNotes.push(`${name}: no scheduler-isolated partition (${(err as Error).message})`);
    }
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
