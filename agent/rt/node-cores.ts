import type { CpuTopology } from "../../native/index.js";
import {
  assignCores,
  type CorePlan,
  claimCores,
  emptyCorePlan,
  releaseCores,
  sharedCpus,
} from "../../realtime/index.js";

/**
 * The node's whole cores and who holds them: the core planner's state on this box. RT
 * instances get whole cores; everything else (every other partition, builds) shares
 * the rest, of which at least `housekeepingCores` are never given away.
 */
export class NodeCores {
  private plan: CorePlan;

  constructor(topology: CpuTopology, housekeepingCores = 1) {
    this.plan = emptyCorePlan(topology, housekeepingCores);
  }

  /** The CPUs of each whole core, ascending. */
  get cores(): readonly (readonly number[])[] {
    return this.plan.cores;
  }

  /** CPUs nobody holds: where non-RT work runs. */
  shared(): number[] {
    return sharedCpus(this.plan);
  }

  held(instance: string): readonly number[] | undefined {
    return this.plan.assigned[instance];
  }

  /** Instance → CPUs, for every instance holding cores. */
  holders(): Readonly<Record<string, readonly number[]>> {
    return this.plan.assigned;
  }

  /**
   * Gives `instance` `count` whole cores, or exactly `wanted` (what it held before an
   * agent restart, or what the master reserved). An instance already holding cores
   * keeps them. Throws `CoreOvercommitError` naming what is free.
   */
  reserve(instance: string, count: number, wanted?: readonly number[]): readonly number[] {
    const held = this.plan.assigned[instance];
    if (held !== undefined) return held;
    this.plan =
      wanted && wanted.length > 0
        ? claimCores(this.plan, instance, wanted)
        : assignCores(this.plan, instance, count);
    return this.plan.assigned[instance] ?? [];
  }

  release(instance: string): void {
    this.plan = releaseCores(this.plan, instance);
  }
}
