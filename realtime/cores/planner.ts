import { type CpuTopology, formatCpuList } from "../../native/index.js";
import { RealtimeError } from "../errors.js";

/** Which whole cores each RT instance holds; every other usable core is housekeeping. */
export interface CorePlan {
  /** Usable cores (every hardware thread online), each as its CPUs, ascending. */
  cores: readonly (readonly number[])[];
  /** Cores never given away, however many are free. */
  housekeepingCores: number;
  /** Instance name → the CPUs of the whole cores it holds. */
  assigned: Readonly<Record<string, readonly number[]>>;
}

const cpuText = (cores: readonly (readonly number[])[]) =>
  cores.length === 0 ? "none" : `cpu ${formatCpuList(cores.flat())}`;

/** More cores asked than free: names what was asked and what is left. */
export class CoreOvercommitError extends RealtimeError {
  readonly code = "E_RT_OVERCOMMIT";
  constructor(
    readonly instance: string,
    readonly asked: number,
    readonly freeCores: readonly (readonly number[])[],
    readonly housekeeping: readonly number[],
  ) {
    super(
      `instance ${instance} asks for ${asked} whole core(s) but ${freeCores.length} ` +
        `${freeCores.length === 1 ? "is" : "are"} free (${cpuText(freeCores)}); ` +
        `housekeeping keeps cpu ${formatCpuList(housekeeping)}`,
    );
  }
}

/**
 * Pure: a plan with nothing assigned. A core with an offline sibling is left out (its
 * sibling may come online under a non-RT task), so SMT siblings are never split.
 */
export function emptyCorePlan(topology: CpuTopology, housekeepingCores = 1): CorePlan {
  if (!Number.isInteger(housekeepingCores) || housekeepingCores < 1) {
    throw new RangeError(`housekeepingCores must be an integer >= 1 (got ${housekeepingCores})`);
  }
  const online = new Set(topology.online);
  const cores = topology.cores
    .filter((core) => core.cpus.every((cpu) => online.has(cpu)))
    .map((core) => [...core.cpus].sort((a, b) => a - b))
    .sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
  if (cores.length === 0) throw new RangeError("the topology has no core with all CPUs online");
  return { cores, housekeepingCores, assigned: {} };
}

function heldCpus(plan: CorePlan): Set<number> {
  return new Set(Object.values(plan.assigned).flat());
}

/** Pure: cores nobody holds, ascending (housekeeping included). */
export function unassignedCores(plan: CorePlan): (readonly number[])[] {
  const held = heldCpus(plan);
  return plan.cores.filter((core) => !core.some((cpu) => held.has(cpu)));
}

/** Pure: the CPUs every non-RT partition and the machine's own tasks share. */
export function sharedCpus(plan: CorePlan): number[] {
  return unassignedCores(plan).flat();
}

/**
 * Pure: gives `instance` `count` whole cores, the highest-numbered free ones (the lowest
 * core, where CPU 0's unmovable kernel work lands, stays housekeeping). Returns a new
 * plan; `CoreOvercommitError` when fewer than `count` are free after housekeeping.
 */
export function assignCores(plan: CorePlan, instance: string, count: number): CorePlan {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`${instance}: cores must be an integer >= 1 (got ${count})`);
  }
  if (plan.assigned[instance] !== undefined) {
    throw new RangeError(
      `instance ${instance} already holds cpu ${formatCpuList(plan.assigned[instance])}`,
    );
  }
  const unassigned = unassignedCores(plan);
  const housekeeping = unassigned.slice(0, plan.housekeepingCores);
  const free = unassigned.slice(plan.housekeepingCores);
  if (free.length < count) {
    throw new CoreOvercommitError(instance, count, free, housekeeping.flat());
  }
  const given = free
    .slice(free.length - count)
    .flat()
    .sort((a, b) => a - b);
  return { ...plan, assigned: { ...plan.assigned, [instance]: given } };
}

/** Pure: returns the instance's cores to the pool (no-op when it holds none). */
export function releaseCores(plan: CorePlan, instance: string): CorePlan {
  const { [instance]: _released, ...assigned } = plan.assigned;
  return { ...plan, assigned };
}

/**
 * Pure: gives `instance` exactly `cpus` (an agent restart re-claims what its running
 * instances hold). Each CPU's whole core must be free and not housekeeping; throws
 * `CoreOvercommitError` otherwise, `RangeError` for CPUs that are not whole usable cores.
 */
export function claimCores(plan: CorePlan, instance: string, cpus: readonly number[]): CorePlan {
  if (plan.assigned[instance] !== undefined) {
    throw new RangeError(
      `instance ${instance} already holds cpu ${formatCpuList(plan.assigned[instance])}`,
    );
  }
  const wanted = new Set(cpus);
  const cores = plan.cores.filter((core) => core.some((cpu) => wanted.has(cpu)));
  const covered = cores.flat();
  if (cpus.length === 0 || cores.some((core) => core.some((cpu) => !wanted.has(cpu)))) {
    throw new RangeError(
      `cpu ${formatCpuList(cpus)} are not whole cores (their cores: ${cpuText(cores)})`,
    );
  }
  const unknown = cpus.filter((cpu) => !covered.includes(cpu));
  if (unknown.length > 0)
    throw new RangeError(`cpu ${formatCpuList(unknown)} are not usable cores`);
  const unassigned = unassignedCores(plan);
  const housekeeping = unassigned.slice(0, plan.housekeepingCores);
  const free = unassigned.slice(plan.housekeepingCores);
  if (!cores.every((core) => free.includes(core))) {
    throw new CoreOvercommitError(instance, cores.length, free, housekeeping.flat());
  }
  const given = [...covered].sort((a, b) => a - b);
  return { ...plan, assigned: { ...plan.assigned, [instance]: given } };
}
