import { NoCapacityError } from "./errors.js";
import type { InstanceRequest, NodeCapacity, Placement } from "./store.js";

/**
 * Where an instance goes. A node qualifies when the software is supplied to it, it has
 * a free partition and, when the instance asks for real time, enough free isolated
 * cores. Among those, the one with the most free partitions wins (spreads load; ties go
 * to the name that sorts first, so placement is deterministic). The instance gets the
 * lowest free partition and the lowest free cores. Pure: the store calls it inside the
 * transaction that reads the capacity and writes the placement.
 */
export function placeInstance(request: InstanceRequest, nodes: NodeCapacity[]): Placement {
  const candidates = request.node ? nodes.filter((n) => n.name === request.node) : nodes;
  if (request.node && candidates.length === 0) {
    throw new NoCapacityError(`node '${request.node}' does not exist`);
  }
  const reasons: string[] = [];
  let best: { node: NodeCapacity; free: number[]; cores: number[] } | undefined;
  for (const node of [...candidates].sort((a, b) => a.name.localeCompare(b.name))) {
    const reason = unfit(request, node);
    if (reason) {
      reasons.push(`${node.name}: ${reason}`);
      continue;
    }
    const free = freePartitions(node);
    const cores = freeCores(node).slice(0, request.cores);
    if (!best || free.length > best.free.length) best = { node, free, cores };
  }
  if (!best) {
    const where = request.node ? "" : reasons.length === 0 ? " (no nodes)" : "";
    throw new NoCapacityError(
      `no node can take instance '${request.name}'${where}${reasons.length > 0 ? `: ${reasons.join("; ")}` : ""}`,
    );
  }
  return { node: best.node.name, partition: best.free[0] ?? 0, cores: best.cores };
}

function unfit(request: InstanceRequest, node: NodeCapacity): string | undefined {
  if (!node.software.includes(request.software)) return "software not supplied";
  if (node.partitions === 0) return "no partitions (has the node said hello?)";
  if (freePartitions(node).length === 0) return `all ${node.partitions} partitions used`;
  if (request.cores > 0) {
    const free = freeCores(node).length;
    if (free < request.cores) return `${free} free isolated cores, ${request.cores} asked`;
  }
  return undefined;
}

function freePartitions(node: NodeCapacity): number[] {
  const used = new Set(node.usedPartitions);
  const free: number[] = [];
  for (let p = 0; p < node.partitions; p++) if (!used.has(p)) free.push(p);
  return free;
}

function freeCores(node: NodeCapacity): number[] {
  const used = new Set(node.usedCores);
  return node.isolatedCores.filter((c) => !used.has(c)).sort((a, b) => a - b);
}
