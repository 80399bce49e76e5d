import { join } from "node:path";
import type { BackoffOptions, Logger } from "../../common/index.js";
import type {
  DesiredInstance,
  InstanceLimits,
  InstanceReport,
  InstanceRequestSpec,
  PromiseResult,
  UsageReport,
} from "../../protocol/index.js";
import { RealtimeSetupError } from "../errors.js";
import { type InstanceRealtime, InstanceRuntime } from "../instances/instance-runtime.js";
import { type RenderedInstance, renderInstance } from "../instances/render.js";
import { renderRequests } from "../instances/render-requests.js";
import { reportedLimits } from "../limits.js";
import type { DiskQuotas } from "../partitions/disk-quota.js";
import { partitionLayout } from "../partitions/partition-layout.js";
import {
  ensurePartition,
  type Partition,
  type PartitionOptions,
  resetPartition,
} from "../partitions/partitions.js";
import type { RealtimeInstances } from "../rt/core-reservations.js";
import { checkRenderedCommands } from "../software/command-check.js";
import type { InstalledSoftware } from "../software/install.js";
import { reportedSecretKeys } from "../software/secret-parameters.js";
import type { SoftwareStore } from "../software/software-store.js";
import { BackgroundInstalls } from "./background-installs.js";
import { instanceReport } from "./instance-report.js";
import type { Journal } from "./journal.js";
import { type DesiredView, instanceKey, planInstances } from "./plan.js";
import { boundReport } from "./report-bounds.js";
import { requestsReadiness } from "./requests-readiness.js";
import { UsageMeter } from "./usage-meter.js";

export interface DesiredSnapshot {
  software: string[];
  instances: DesiredInstance[];
}

export interface ConvergerOptions {
  journal: Journal;
  software: SoftwareStore;
  partitions: PartitionOptions;
  logger: Logger;
  backoff: BackoffOptions;
  stopTimeoutMs: number;
  stableMs: number;
  selfRepair: { afterFailures: number; maxRepairs: number };
  /** Real time (root with cgroups): whole cores for RT instances; absent: none. */
  realtime?: RealtimeInstances;
  /** Directory of the partitions' local API sockets (`pN.sock`); absent: no local API. */
  apiDir?: string;
  /** Something changed (an install finished, a promise flipped): run a pass soon. */
  wake: () => void;
  /** How long a pass waits for its instances' actions (default 15 s); see apply. */
  actionBudgetMs?: number;
  /** Each partition's disk limit; an instance whose partition is over it is kept stopped. */
  disk?: DiskQuotas;
}

const DEFAULT_ACTION_BUDGET_MS = 15_000;

/** Pseudo-promise naming both releases while an instance moves from one to another. */
export const SWITCH_PROMISE = "switch";

function switchPromise(
  from: InstalledSoftware,
  to: string,
  installed: InstalledSoftware | undefined,
  now: number,
): PromiseResult {
  const target = installed
    ? `${installed.descriptor.name} ${installed.descriptor.version} (${to}), installed, starting`
    : `${to}, installing`;
  return {
    name: SWITCH_PROMISE,
    ok: true,
    message: `running ${from.descriptor.name} ${from.descriptor.version} (${from.url}); switching to ${target}`,
    checkedAt: now,
  };
}

interface Running {
  runtime: InstanceRuntime;
  key: string;
  /** The release it runs (while it switches to another, the desired one differs). */
  software: InstalledSoftware;
  usage?: UsageMeter;
}

/** An instance's `requests:` as last rendered, and what it still waits for. */
interface Requests {
  specs: InstanceRequestSpec[];
  waiting?: string;
}

/** How a desired instance can start now: its key and what it starts with. */
interface StartPlan {
  key: string;
  connections: Record<string, Record<string, string>>;
}

/** What one report carried, so its acknowledgement can finish what waited for it. */
export interface ReportBatch {
  instances: InstanceReport[];
  usage: UsageReport[];
  /** Instances reported `destroyed` in this batch. */
  destroyed: string[];
}

/**
 * Makes the node match a desired state, one pass at a time. Each instance is handled on
 * its own: a failing one is reported with its error and never blocks the others.
 * Installs run in the background; an instance waits for its software without holding
 * the pass. The journal is written before and after every step that a crash could cut.
 */
export class Converger {
  private readonly running = new Map<string, Running>();
  private readonly errors = new Map<string, string>();
  private readonly installs: BackgroundInstalls;
  private readonly partitions = new Map<number, Partition>();
  private readonly pendingUsage: UsageReport[] = [];
  private readonly requests = new Map<string, Requests>();
  /** Actions still running, by instance: a pass leaves those instances alone. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private desired: DesiredSnapshot = { software: [], instances: [] };

  constructor(private readonly options: ConvergerOptions) {
    this.installs = new BackgroundInstalls(options.software, options.wake);
  }

  /**
   * One pass. `full` also re-fetches every descriptor (a new version installs side by
   * side, and its instances move to it) and rewrites the files of unchanged instances.
   */
  async apply(desired: DesiredSnapshot, full = false): Promise<void> {
    this.desired = desired;
    const urls = new Set([...desired.software, ...desired.instances.map((i) => i.software)]);
    for (const url of urls) if (full || !this.options.software.get(url)) this.installs.start(url);
    const views: DesiredView[] = desired.instances.map((i) => {
      // Over its disk limit (measured): stopped, and started again once back under.
      if (i.state === "started" && this.diskExceeded(i.partition + 1))
        return { name: i.name, state: "stopped", key: undefined };
      const sw = this.options.software.get(i.software);
      // Waiting for requested instances: a running instance keeps running meanwhile.
      const key =
        sw && i.state === "started"
          ? (this.startPlan(i, sw)?.key ?? this.running.get(i.name)?.key)
          : undefined;
      return { name: i.name, state: i.state, key };
    });
    const actual = [...this.running].map(([name, r]) => ({ name, key: r.key }));
    for (const name of this.options.journal.names())
      if (!this.running.has(name) && !desired.instances.some((i) => i.name === name))
        actual.push({ name, key: "" });
    const byName = new Map(desired.instances.map((i) => [i.name, i]));
    const slow = new Set<string>();
    const tasks = planInstances(views, actual)
      // An instance whose last action still runs is left to it: never two at once.
      .filter((action) => !this.inFlight.has(action.name))
      .map((action) => {
        const task = this.act(action, byName.get(action.name), full).finally(() => {
          this.inFlight.delete(action.name);
          if (slow.has(action.name)) {
            this.options.logger.info({ instance: action.name }, "instance.slow_action_done");
            this.options.wake();
          }
        });
        this.inFlight.set(action.name, task);
        return { name: action.name, task };
      });
    // A pass waits for its actions only so long: one instance stuck in a stop or a
    // write never holds back the reports and actions of the others.
    await this.withinBudget(tasks.map((t) => t.task));
    for (const { name } of tasks)
      if (this.inFlight.has(name)) {
        slow.add(name);
        this.options.logger.warn({ instance: name }, "instance.slow_action");
      }
  }

  private async act(
    action: ReturnType<typeof planInstances>[number],
    desired: DesiredInstance | undefined,
    full: boolean,
  ): Promise<void> {
    try {
      switch (action.kind) {
        case "start":
          await this.start(desired as DesiredInstance);
          break;
        case "stop":
          await this.stop(action.name);
          break;
        case "destroy":
          await this.destroy(action.name, desired);
          break;
        case "keep":
          // The periodic full pass repairs drift: files rewritten as rendered.
          if (!full) return;
          await this.running.get(action.name)?.runtime.rewriteFiles();
          break;
        default:
          return;
      }
      this.errors.delete(action.name);
    } catch (err) {
      const message = (err as Error).message;
      // Retried every pass; logged when it starts failing or fails differently.
      if (this.errors.get(action.name) !== message)
        this.options.logger.warn({ instance: action.name, err }, "instance.failed");
      this.errors.set(action.name, message);
    }
  }

  /** Instance status, promises, connection parameters and due usage figures. */
  report(): ReportBatch {
    const now = Date.now();
    const instances = this.desired.instances.map((d) => {
      const current = this.running.get(d.name);
      const running = current?.runtime;
      const switching =
        current && current.software.url !== d.software
          ? [
              switchPromise(
                current.software,
                d.software,
                this.options.software.get(d.software),
                now,
              ),
            ]
          : [];
      const target = this.options.software.get(d.software);
      const secrets = reportedSecretKeys(
        d.software,
        target?.descriptor,
        current?.software.descriptor,
      );
      return boundReport(
        instanceReport(
          d,
          {
            destroying: this.options.journal.get(d.name)?.phase === "destroying",
            error: this.errors.get(d.name) ?? this.installs.error(d.software),
            softwareInstalled: target !== undefined,
            ...this.limitFacts(d.partition + 1),
            ...(secrets ? { secrets } : {}),
            ...(this.requests.has(d.name) ? { requests: this.requests.get(d.name) } : {}),
            ...(running
              ? {
                  running: {
                    status: running.status(),
                    ready: running.ready(),
                    promises: [...switching, ...running.failures(), ...running.promiseResults()],
                    publish: running.publish(),
                    backlog: running.backlog(),
                  },
                }
              : {}),
          },
          now,
        ),
      );
    });
    const destroyed = instances.filter((i) => i.status === "destroyed").map((i) => i.name);
    return { instances, usage: [...this.pendingUsage], destroyed };
  }

  /** Closes a usage period for every running instance (sent with the next report). */
  meterUsage(): void {
    for (const r of this.running.values()) if (r.usage) this.pendingUsage.push(r.usage.take());
  }

  /**
   * The master acknowledged `batch`: its usage is delivered, and each instance it reported
   * destroyed can now lose its partition (files, cgroup) and its journal entry.
   */
  async acknowledged(batch: ReportBatch): Promise<void> {
    this.pendingUsage.splice(0, batch.usage.length);
    // One still stopping is finished by the destroy the pass after its stop plans.
    for (const name of batch.destroyed) if (!this.inFlight.has(name)) await this.forget(name);
  }

  /** Frees a destroyed instance's partition (files, cgroup) and drops its journal entry. */
  private async forget(name: string): Promise<void> {
    const entry = this.options.journal.get(name);
    if (!entry) return;
    this.options.journal.update(name, { finalReportAcked: true });
    this.options.journal.nextEpoch(entry.partition);
    await resetPartition(this.partition(entry.partition));
    this.partitions.delete(entry.partition);
    this.options.journal.delete(name);
    this.requests.delete(name);
    this.options.logger.info({ instance: name, partition: entry.partition }, "instance.destroyed");
  }

  /** Waits for `tasks`, or for one action budget if they take longer. */
  private async withinBudget(tasks: Iterable<Promise<void>>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<void>((r) => {
      timer = setTimeout(r, this.options.actionBudgetMs ?? DEFAULT_ACTION_BUDGET_MS);
    });
    await Promise.race([Promise.all(tasks), budget]);
    clearTimeout(timer);
  }

  /** Agent shutdown: workloads keep running and are adopted by the next start. */
  async detach(): Promise<void> {
    await this.withinBudget(this.inFlight.values());
    await Promise.all([...this.running.values()].map((r) => r.runtime.detach()));
    this.running.clear();
  }

  /** Every process of every instance stopped (tests, uninstall). */
  async stopAll(): Promise<void> {
    await this.withinBudget(this.inFlight.values());
    await Promise.all([...this.running.values()].map((r) => r.runtime.stop()));
    for (const name of this.running.keys()) await this.options.realtime?.release(name);
    this.running.clear();
  }

  /** Restarts of every supervised process (metrics). */
  restarts(): number {
    let n = 0;
    for (const r of this.running.values()) for (const p of r.runtime.processes) n += p.restarts;
    return n;
  }

  runtime(name: string): InstanceRuntime | undefined {
    return this.running.get(name)?.runtime;
  }

  /** Why partition `number`'s instance must not run now (its files are over the disk limit). */
  private diskExceeded(number: number): string | undefined {
    const exceeded = this.options.disk?.exceeded(number);
    return exceeded ? `${exceeded.code}: ${exceeded.message}` : undefined;
  }

  /** What the report says of an instance in partition `number`: its limits, its disk state. */
  private limitFacts(number: number): { limits?: InstanceLimits; diskExceeded?: string } {
    const limits = this.options.partitions.limits?.instance;
    const disk = this.options.disk;
    const exceeded = this.diskExceeded(number);
    const known = this.partitions.get(number);
    return {
      ...(limits
        ? {
            limits: reportedLimits(limits, {
              group:
                this.options.partitions.cgroupParent !== undefined &&
                known?.limitsError === undefined,
              disk: disk?.modeOf(number) ?? "none",
              ...(disk?.limit ? { diskBytes: disk.limit.bytes } : {}),
            }),
          }
        : {}),
      ...(exceeded !== undefined ? { diskExceeded: exceeded } : {}),
    };
  }

  private partition(number: number): Partition {
    let p = this.partitions.get(number);
    if (!p) {
      p = ensurePartition(this.options.partitions, number);
      this.options.disk?.prepare(p);
      if (p.limitsError !== undefined)
        this.options.logger.warn(
          { partition: number, error: p.limitsError },
          "partition.limits_failed",
        );
      this.partitions.set(number, p);
      // A partition made again after a reset starts on every CPU: back off the RT cores.
      this.options.realtime?.confine();
    }
    return p;
  }

  /**
   * The instance's key and requested connections if it can start now; undefined while
   * an instance it requests is not ready. Records its rendered `requests:` for the
   * report (the master creates them from it). Bad parameters are left to `start`,
   * which reports them.
   */
  private startPlan(d: DesiredInstance, sw: InstalledSoftware): StartPlan | undefined {
    const number = d.partition + 1;
    let specs: InstanceRequestSpec[];
    try {
      specs = renderRequests(
        d.name,
        sw,
        partitionLayout(this.options.partitions, number),
        d.parameters,
      );
    } catch {
      this.requests.delete(d.name);
      return { key: instanceKey(sw.id, number, d.parameters), connections: {} };
    }
    if (specs.length === 0) {
      this.requests.delete(d.name);
      return { key: instanceKey(sw.id, number, d.parameters), connections: {} };
    }
    const readiness = requestsReadiness(specs, d.requested);
    if (!readiness.ready) {
      this.requests.set(d.name, { specs, waiting: readiness.waiting });
      return undefined;
    }
    this.requests.set(d.name, { specs });
    const { connections } = readiness;
    return { key: instanceKey(sw.id, number, d.parameters, connections), connections };
  }

  private async start(d: DesiredInstance): Promise<void> {
    const sw = this.options.software.get(d.software);
    if (!sw) return;
    const number = d.partition + 1;
    const plan = this.startPlan(d, sw);
    if (!plan) return;
    const { key, connections } = plan;
    const journal = this.options.journal;
    const before = journal.get(d.name);
    const partition = this.partition(number);
    // Rendered first: bad new parameters leave the running configuration alone.
    const rendered = renderInstance(d.name, sw, partition, d.parameters, connections);
    checkRenderedCommands(sw.url, rendered.processes);
    const previous = this.running.get(d.name);
    if (previous) {
      await previous.runtime.stop();
      this.running.delete(d.name);
      await this.options.realtime?.release(d.name);
    }
    const realtime = await this.reserveRealtime(d, rendered.processes, partition, before?.cores);
    // Identities journaled for this very configuration are adopted, not restarted.
    const adoptable =
      !previous && before?.softwareId === sw.id && before.partition === number
        ? instanceKey(sw.id, number, before.parameters, before.requestedConnections) === key
          ? before.processes
          : {}
        : {};
    journal.set(d.name, {
      software: d.software,
      softwareId: sw.id,
      partition: number,
      parameters: d.parameters,
      ...(Object.keys(connections).length > 0 ? { requestedConnections: connections } : {}),
      requested: d.state,
      phase: "starting",
      processes: adoptable,
      ...(realtime ? { cores: [...realtime.cpus] } : {}),
    });
    const runtime = new InstanceRuntime({
      name: d.name,
      partition,
      rendered,
      logger: this.options.logger,
      backoff: this.options.backoff,
      stopTimeoutMs: this.options.stopTimeoutMs,
      stableMs: this.options.stableMs,
      selfRepair: this.options.selfRepair,
      ...(realtime ? { realtime } : {}),
      ...(this.options.apiDir ? { apiSocket: join(this.options.apiDir, `p${number}.sock`) } : {}),
      ...(before?.published && adoptable === before.processes
        ? { published: before.published }
        : {}),
      onChange: () => {
        if (this.running.get(d.name)?.runtime === runtime)
          journal.update(d.name, { processes: runtime.identities(), published: runtime.published });
        this.options.wake();
      },
    });
    const usage = partition.cgroup ? new UsageMeter(d.name, partition.cgroup) : undefined;
    this.running.set(d.name, { runtime, key, software: sw, ...(usage ? { usage } : {}) });
    try {
      await runtime.start(adoptable);
    } catch (err) {
      // Not kept as running, so the next pass tries again.
      await runtime.stop();
      this.running.delete(d.name);
      await this.options.realtime?.release(d.name);
      throw err;
    }
    journal.update(d.name, { phase: "started", processes: runtime.identities() });
    this.options.logger.info({ instance: d.name, partition: number }, "instance.started");
  }

  /** Cores for an instance that asks for real time, reserved before its processes start. */
  private async reserveRealtime(
    d: DesiredInstance,
    processes: RenderedInstance["processes"],
    partition: Partition,
    previous: readonly number[] | undefined,
  ): Promise<InstanceRealtime | undefined> {
    if (this.options.realtime)
      return this.options.realtime.reserve(d.name, processes, partition, d.cores, previous);
    if (processes.some((p) => (p.realtime?.cores ?? 0) > 0) || d.cores.length > 0) {
      throw new RealtimeSetupError(
        `instance ${d.name} asks for whole cores; this agent runs no real time (laptop mode: no root, no cgroups)`,
      );
    }
    return undefined;
  }

  private async stop(name: string): Promise<void> {
    const r = this.running.get(name);
    if (!r) return;
    await r.runtime.stop();
    if (r.usage) this.pendingUsage.push(r.usage.take());
    this.running.delete(name);
    await this.options.realtime?.release(name);
    this.options.journal.update(name, { phase: "stopped", processes: {} });
    this.options.logger.info({ instance: name }, "instance.stopped");
  }

  private async destroy(name: string, d: DesiredInstance | undefined): Promise<void> {
    await this.stop(name);
    const entry = this.options.journal.get(name);
    if (entry) {
      if (entry.phase !== "destroying")
        this.options.journal.update(name, { phase: "destroying", requested: "destroyed" });
    } else if (d) {
      // Never started here (failed install), but its partition may hold rendered files.
      this.options.journal.set(name, {
        software: d.software,
        partition: d.partition + 1,
        parameters: d.parameters,
        requested: "destroyed",
        phase: "destroying",
        processes: {},
      });
    }
    if (!d) {
      // The master forgot it (it saw our destroyed report): nothing more to report.
      const left = this.options.journal.get(name);
      if (left) await this.forget(name);
    }
  }
}
