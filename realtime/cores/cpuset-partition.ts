import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type Cgroup,
  CgroupPartitionInvalidError,
  formatCpuList,
  parseCpuList,
} from "../../native/index.js";
import { RealtimeError } from "../errors.js";

/** The kernel refused an exclusive cpuset; says which sibling holds the CPUs or why. */
export class CpusetConflictError extends RealtimeError {
  readonly code = "E_RT_CPUSET_CONFLICT";
  constructor(
    readonly path: string,
    readonly cpus: readonly number[],
    readonly holders: readonly { path: string; cpus: readonly number[] }[],
    reason: string,
  ) {
    super(`cannot make ${path} an exclusive cpuset on cpu ${formatCpuList(cpus)}: ${reason}`);
  }
}

function readCpus(dir: string): number[] {
  return parseCpuList(readFileSync(join(dir, "cpuset.cpus"), "utf8"));
}

/** Why v1 refused `cpu_exclusive` on `dir`: a non-exclusive parent, or siblings on the CPUs. */
function diagnoseV1(dir: string, cpus: readonly number[], cause: unknown): CpusetConflictError {
  const parent = dirname(dir);
  if (readFileSync(join(parent, "cpuset.cpu_exclusive"), "utf8").trim() !== "1") {
    return new CpusetConflictError(dir, cpus, [], `its parent ${parent} is not cpu_exclusive`);
  }
  const wanted = new Set(cpus);
  const holders = readdirSync(parent, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== basename(dir))
    .map((e) => ({ path: join(parent, e.name), cpus: readCpus(join(parent, e.name)) }))
    .filter((sibling) => sibling.cpus.some((cpu) => wanted.has(cpu)));
  const reason =
    holders.length === 0
      ? `the kernel said ${(cause as Error).message}`
      : `sibling ${holders.map((h) => `${h.path} (cpu ${formatCpuList(h.cpus)})`).join(", ")} ` +
        "still may use them; move it to the shared CPUs first";
  return new CpusetConflictError(dir, cpus, holders, reason);
}

export interface IsolateOptions {
  /** The CPUs every other partition keeps; must not be empty (the parent keeps one). */
  shared: readonly number[];
  /** Other partitions (siblings) to confine to `shared` before the CPUs are taken. */
  others?: readonly Cgroup[];
}

/**
 * Moves every other partition off `cpus`, then makes `group` an isolated partition on
 * them: v2 `cpuset.cpus.partition=isolated` (read back; "invalid" throws
 * `CgroupPartitionInvalidError`), v1 `cpu_exclusive=1` with `sched_load_balance=0`
 * (a refusal throws `CpusetConflictError` naming the sibling that holds the CPUs).
 */
export function isolateCpus(group: Cgroup, cpus: readonly number[], options: IsolateOptions): void {
  if (cpus.length === 0) throw new RangeError("an isolated partition needs at least one CPU");
  if (options.shared.length === 0) {
    throw new RangeError("the shared CPUs are empty: the parent must keep at least one CPU");
  }
  const overlap = cpus.filter((cpu) => options.shared.includes(cpu));
  if (overlap.length > 0) {
    throw new RangeError(`cpu ${formatCpuList(overlap)} cannot be both shared and isolated`);
  }
  for (const other of options.others ?? []) other.setLimits({ cpus: options.shared });
  group.setLimits({ cpus });
  try {
    group.setLimits({ partition: "isolated" });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const v1 = group.dirs.v1.cpuset;
    if (v1 !== undefined && (code === "EINVAL" || code === "EACCES"))
      throw diagnoseV1(v1, cpus, err);
    throw err;
  }
}

const RT_RUNTIME_SETTLE_MS = 1000;

/**
 * A new v1 cpu group has no RT runtime, in which SCHED_FIFO is refused (EPERM). The
 * kernel frees a removed sibling's runtime only once its cgroup is destroyed, after
 * rmdir returns: EINVAL is retried until then.
 */
async function giveRtRuntime(parent: Cgroup, group: Cgroup, wanted?: number): Promise<void> {
  const deadline = Date.now() + RT_RUNTIME_SETTLE_MS;
  for (;;) {
    const rtRuntimeUs = wanted ?? parent.freeRtRuntimeUs();
    if (rtRuntimeUs === undefined) return;
    try {
      group.setLimits({ rtRuntimeUs });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EINVAL" || Date.now() > deadline) throw err;
      await sleep(10);
    }
  }
}

/**
 * Creates `name` below `parent` as an isolated partition on `cpus` (see `isolateCpus`),
 * with `rtRuntimeUs` of RT time per period on v1 cpu (default: all the parent has free);
 * on any failure the group is removed again.
 */
export async function createRtPartition(
  parent: Cgroup,
  name: string,
  cpus: readonly number[],
  options: IsolateOptions & { rtRuntimeUs?: number },
): Promise<Cgroup> {
  const group = parent.createChild(name, { cpus });
  try {
    if (group.dirs.v1.cpu !== undefined) await giveRtRuntime(parent, group, options.rtRuntimeUs);
    isolateCpus(group, cpus, options);
  } catch (err) {
    await group.remove();
    throw err;
  }
  return group;
}

/** Removes an RT partition and gives the shared CPUs (now including its cores) back to `others`. */
export async function releaseRtPartition(
  group: Cgroup,
  options: { shared: readonly number[]; others?: readonly Cgroup[] },
): Promise<void> {
  const cpuset = group.dirs.v1.cpuset;
  if (cpuset !== undefined && existsSync(cpuset)) group.setLimits({ partition: "member" });
  await group.remove();
  for (const other of options.others ?? []) other.setLimits({ cpus: options.shared });
}

/**
 * Re-reads an RT partition: on v2 a valid partition turns "isolated invalid" when a
 * sibling or CPU hotplug takes its CPUs, and nothing tells but this read.
 */
export function checkRtPartition(group: Cgroup): void {
  const v1 = group.dirs.v1.cpuset;
  if (v1 !== undefined) {
    const exclusive = readFileSync(join(v1, "cpuset.cpu_exclusive"), "utf8").trim();
    const balance = readFileSync(join(v1, "cpuset.sched_load_balance"), "utf8").trim();
    if (exclusive !== "1" || balance !== "0") {
      throw new CgroupPartitionInvalidError(
        v1,
        `cpu_exclusive=${exclusive} sched_load_balance=${balance}`,
      );
    }
    return;
  }
  const dir = group.dirs.unified;
  if (dir === undefined) throw new RangeError(`${group.path} has no cpuset`);
  const state = readFileSync(join(dir, "cpuset.cpus.partition"), "utf8").trim();
  if (state !== "isolated") throw new CgroupPartitionInvalidError(dir, state);
}
