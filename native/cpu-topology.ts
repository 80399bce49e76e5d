import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseCpuList } from "./cpu-list.js";

/** What sysfs says about one online CPU, as the raw text of its files. */
export interface RawCpu {
  cpu: number;
  /** `topology/core_id` */
  coreId: string;
  /** `topology/physical_package_id` */
  packageId: string;
  /** `topology/core_cpus_list`, or `thread_siblings_list` on kernels before 5.7 */
  siblings: string;
}

/** The raw text of the sysfs files the topology is built from; `null` = file missing. */
export interface RawCpuTopology {
  /** `cpu/online` */
  online: string;
  /** `cpu/isolated` (isolcpus= domain isolation) */
  isolated: string | null;
  /** `cpu/nohz_full`; missing when the kernel lacks CONFIG_NO_HZ_FULL */
  nohzFull: string | null;
  cpus: RawCpu[];
  /** `node/nodeN/cpulist`; empty when the kernel has no NUMA support */
  nodes: { id: number; cpulist: string }[];
}

/** One physical core: the hardware threads (SMT siblings) that share it. */
export interface CpuCore {
  package: number;
  core: number;
  cpus: number[];
}

export interface CpuTopology {
  online: number[];
  isolated: number[];
  /** `null` when the kernel cannot do nohz_full at all. */
  nohzFull: number[] | null;
  /** Whether any core runs more than one hardware thread. */
  smt: boolean;
  cores: CpuCore[];
  packages: { id: number; cpus: number[] }[];
  nodes: { id: number; cpus: number[] }[];
}

/** Pure: builds the topology from the sysfs texts (tested with samples from real boxes). */
export function buildCpuTopology(raw: RawCpuTopology): CpuTopology {
  const cores = new Map<string, CpuCore>();
  const packages = new Map<number, number[]>();
  for (const c of raw.cpus) {
    const pkg = Number.parseInt(c.packageId, 10);
    const siblings = parseCpuList(c.siblings);
    // core_id repeats across packages (and is not dense), the sibling set does not.
    const key = `${pkg}/${siblings.join(",")}`;
    if (!cores.has(key)) {
      cores.set(key, { package: pkg, core: Number.parseInt(c.coreId, 10), cpus: siblings });
    }
    packages.set(pkg, [...(packages.get(pkg) ?? []), c.cpu]);
  }
  const byFirstCpu = (a: CpuCore, b: CpuCore) => (a.cpus[0] ?? 0) - (b.cpus[0] ?? 0);
  const sortedCores = [...cores.values()].sort(byFirstCpu);
  return {
    online: parseCpuList(raw.online),
    isolated: raw.isolated === null ? [] : parseCpuList(raw.isolated),
    nohzFull: raw.nohzFull === null ? null : parseNohzFull(raw.nohzFull),
    smt: sortedCores.some((core) => core.cpus.length > 1),
    cores: sortedCores,
    packages: [...packages.entries()]
      .sort(([a], [b]) => a - b)
      .map(([id, cpus]) => ({ id, cpus: cpus.sort((a, b) => a - b) })),
    nodes: raw.nodes
      .map((n) => ({ id: n.id, cpus: parseCpuList(n.cpulist) }))
      .sort((a, b) => a.id - b.id),
  };
}

/** Kernels print "(null)" in nohz_full when the mask was never allocated (no nohz_full=). */
function parseNohzFull(text: string): number[] {
  return text.trim() === "(null)" ? [] : parseCpuList(text);
}

/** CPUs that are online now, from `cpu/online`. */
export function readOnlineCpus(sysRoot = "/sys/devices/system"): number[] {
  return parseCpuList(readFileSync(join(sysRoot, "cpu", "online"), "utf8"));
}

function readOptional(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

function readRawCpu(cpuDir: string, cpu: number): RawCpu {
  const topology = join(cpuDir, `cpu${cpu}`, "topology");
  const read = (file: string) => readFileSync(join(topology, file), "utf8");
  return {
    cpu,
    coreId: read("core_id"),
    packageId: read("physical_package_id"),
    siblings: readOptional(join(topology, "core_cpus_list")) ?? read("thread_siblings_list"),
  };
}

/** Reads the sysfs files `buildCpuTopology` needs (only online CPUs have topology). */
export function readRawCpuTopology(sysRoot = "/sys/devices/system"): RawCpuTopology {
  const cpuDir = join(sysRoot, "cpu");
  const online = readFileSync(join(cpuDir, "online"), "utf8");
  const nodeDir = join(sysRoot, "node");
  let nodeIds: number[] = [];
  try {
    nodeIds = readdirSync(nodeDir)
      .filter((name) => /^node\d+$/.test(name))
      .map((name) => Number(name.slice(4)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  return {
    online,
    isolated: readOptional(join(cpuDir, "isolated")),
    nohzFull: readOptional(join(cpuDir, "nohz_full")),
    cpus: parseCpuList(online).map((cpu) => readRawCpu(cpuDir, cpu)),
    nodes: nodeIds.map((id) => ({
      id,
      cpulist: readFileSync(join(nodeDir, `node${id}`, "cpulist"), "utf8"),
    })),
  };
}

export function readCpuTopology(sysRoot = "/sys/devices/system"): CpuTopology {
  return buildCpuTopology(readRawCpuTopology(sysRoot));
}
