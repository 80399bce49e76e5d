import { hasCode } from "../../common/errors.js";
import type { Logger } from "../../common/index.js";
import { type Cgroup, formatCpuList } from "../../native/index.js";
import type { KnobJournal, RealtimeAttributes } from "../../realtime/index.js";
import { RealtimeSetupError } from "../errors.js";
import type { InstanceRealtime } from "../instances/instance-runtime.js";
import type { RenderedProcess } from "../instances/render.js";
import { childGroups } from "../partitions/cgroup-child.js";
import type { Partition } from "../partitions/partitions.js";
import { applyCpusets, type CpusetTarget } from "./cpuset-tree.js";
import { holdRealtime, type RtHold } from "./machine-hold.js";
import type { NodeCores } from "./node-cores.js";

export interface RealtimeInstancesOptions {
  cores: NodeCores;
  knobs: KnobJournal;
  /** The agent's own group: the top of the v1 RT runtime chain. */
  agentGroup: Cgroup;
  /** The partitions' parent group (`outpost-partitions`). */
  partitionsGroup: Cgroup;
  /** Other groups kept off RT cores (builds). */
  others: readonly Cgroup[];
  logger: Logger;
}

interface Holder {
  partition: Partition;
  cpus: readonly number[];
  slices: Readonly<Record<string, readonly number[]>>;
  /** Absent while it is being taken. */
  hold?: RtHold;
}

const union = (a: readonly number[], b: readonly number[]) =>
  [...new Set([...a, ...b])].sort((x, y) => x - y);

/**
 * The node's RT instances: whole cores reserved through the core planner, every other
 * group confined to the shared CPUs, and what the machine holds for each (IRQs, PM QoS,
 * RT throttling) released when it stops.
 */
export class RealtimeInstances {
  private readonly holders = new Map<string, Holder>();

  constructor(private readonly options: RealtimeInstancesOptions) {}

  /**
   * Reserves cores for `instance` when one of its processes asks for them (or the
   * master reserved some), confines everything else off them and takes the machine
   * knobs. `previous`: what the journal says it held (an agent restart re-claims it).
   * Undefined for an instance without real time. Throws `CoreOvercommitError`.
   */
  async reserve(
    instance: string,
    processes: readonly RenderedProcess[],
    partition: Partition,
    reserved: readonly number[],
    previous: readonly number[] | undefined,
  ): Promise<InstanceRealtime | undefined> {
    const rt = processes.filter((p) => (p.realtime?.cores ?? 0) > 0);
    const pinnedByMaster = rt.length === 0 && reserved.length > 0;
    if (rt.length === 0 && !pinnedByMaster) return undefined;
    if (!partition.cgroup)
      throw new RealtimeSetupError(`partition ${partition.number} has no cgroup to confine`);
    const { cores } = this.options;
    const count = rt.reduce((n, p) => n + (p.realtime?.cores ?? 0), 0);
    let cpus: readonly number[];
    if (reserved.length > 0) cpus = cores.reserve(instance, count, reserved);
    else {
      try {
        cpus = cores.reserve(instance, count, previous);
      } catch (err) {
        // What it held before is gone (taken, or the topology changed): any free cores.
        if (!(hasCode(err, "E_RT_OVERCOMMIT") || err instanceof RangeError)) throw err;
        cpus = cores.reserve(instance, count);
      }
    }
    const slices = pinnedByMaster
      ? Object.fromEntries(processes.map((p) => [p.name, cpus]))
      : this.slice(rt, cpus);
    let hold: RtHold;
    try {
      this.holders.set(instance, { partition, cpus, slices });
      this.confine();
      const profiles = rt.map((p) => p.realtime as RealtimeAttributes);
      hold = await holdRealtime(this.options.knobs, instance, cpus, cores.shared(), profiles);
    } catch (err) {
      this.holders.delete(instance);
      cores.release(instance);
      this.confine();
      throw err;
    }
    this.holders.set(instance, { partition, cpus, slices, hold });
    const notes = [
      hold.irqs.moved.length > 0 ? `${hold.irqs.moved.length} IRQs moved off` : "no IRQ to move",
      ...(hold.irqs.unmovable.length > 0
        ? [`${hold.irqs.unmovable.length} IRQs unmovable (per-CPU)`]
        : []),
      ...(hold.cpuDmaLatencyUs !== null ? [`cpu_dma_latency ${hold.cpuDmaLatencyUs} µs`] : []),
      ...(hold.rtThrottlingLifted ? ["RT throttling lifted"] : []),
    ];
    this.options.logger.info(
      { instance, cpus: formatCpuList(cpus), shared: formatCpuList(cores.shared()), notes },
      "realtime.reserved",
    );
    return {
      cpus,
      shared: cores.shared(),
      slices,
      runtimeChain: [this.options.agentGroup, this.options.partitionsGroup, partition.cgroup],
      confined: () => this.confinedFrom(instance),
      notes,
    };
  }

  /** Gives the instance's cores back to the shared pool and restores its knobs. */
  async release(instance: string): Promise<void> {
    const holder = this.holders.get(instance);
    if (!holder) return;
    const failures = (await holder.hold?.release()) ?? [];
    if (failures.length > 0)
      this.options.logger.warn({ instance, failures }, "realtime.restore_failed");
    // Its processes are stopped: the partition flag and the v1 RT runtime handed down
    // (children first) go back, so the next RT instance, in any partition, can have them.
    const groups = Object.keys(holder.slices).flatMap((name) => {
      const group = this.childOf(holder.partition, `proc-${name}`);
      return group ? [group] : [];
    });
    for (const group of groups) this.undo(instance, () => group.setLimits({ partition: "member" }));
    for (const group of [...groups, holder.partition.cgroup]) {
      if (group?.dirs.v1.cpu !== undefined)
        this.undo(instance, () => group.setLimits({ rtRuntimeUs: 0 }));
    }
    this.holders.delete(instance);
    this.options.cores.release(instance);
    this.confine();
    this.options.logger.info({ instance, cpus: formatCpuList(holder.cpus) }, "realtime.released");
  }

  /** Every group where it must be: RT groups on their cores, everything else shared. */
  confine(): void {
    applyCpusets(this.targets());
  }

  /** Each group and its CPUs, parents before children. */
  private targets(): CpusetTarget[] {
    const shared = this.options.cores.shared();
    const byGroup = new Map([...this.holders.values()].map((h) => [h.partition.cgroupName, h]));
    const targets: CpusetTarget[] = [];
    for (const p of childGroups(this.options.partitionsGroup)) {
      const holder = byGroup.get(p.name);
      targets.push({ group: p.group, cpus: holder ? union(shared, holder.cpus) : shared });
      for (const child of childGroups(p.group)) {
        const slice = child.name.startsWith("proc-")
          ? holder?.slices[child.name.slice("proc-".length)]
          : undefined;
        targets.push({ group: child.group, cpus: slice ?? shared });
      }
    }
    for (const other of this.options.others) {
      targets.push({ group: other, cpus: shared });
      for (const child of childGroups(other)) targets.push({ group: child.group, cpus: shared });
    }
    return targets;
  }

  /** The cores go back even when an undo fails: it is logged, the group is removed later. */
  private undo(instance: string, step: () => void): void {
    try {
      step();
    } catch (err) {
      this.options.logger.warn({ instance, err }, "realtime.release_step_failed");
    }
  }

  /** Whole cores in order, `p.realtime.cores` of them per RT process. */
  private slice(rt: readonly RenderedProcess[], cpus: readonly number[]) {
    const mine = this.options.cores.cores.filter((core) => core.every((c) => cpus.includes(c)));
    const slices: Record<string, readonly number[]> = {};
    let next = 0;
    for (const p of rt) {
      const n = p.realtime?.cores ?? 0;
      slices[p.name] = mine.slice(next, next + n).flat();
      next += n;
    }
    return slices;
  }

  private childOf(partition: Partition, name: string): Cgroup | undefined {
    if (!partition.cgroup) return undefined;
    return childGroups(partition.cgroup).find((c) => c.name === name)?.group;
  }

  /** What must stay off `instance`'s cores: every group whose target leaves them out. */
  private confinedFrom(instance: string): Cgroup[] {
    const cpus = this.holders.get(instance)?.cpus ?? [];
    return this.targets()
      .filter((t) => !t.cpus.some((cpu) => cpus.includes(cpu)))
      .map((t) => t.group);
  }
}
