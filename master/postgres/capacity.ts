import type postgres from "postgres";
import type { NodeCapacity } from "../store.js";

/**
 * What the allocator sees of every node (see sqlite/capacity.ts). Called inside the
 * placing transaction after it took the placement lock, so two requests never get the
 * same partition or core.
 */
export async function readCapacity(tx: postgres.ISql): Promise<NodeCapacity[]> {
  const [nodes, software, instances] = await Promise.all([
    tx`SELECT name, partitions, isolated_cores FROM nodes`,
    tx`SELECT node, url FROM software`,
    tx`SELECT node, partition, cores FROM instances`,
  ]);
  return nodes.map((n) => {
    const mine = instances.filter((i) => i.node === n.name);
    return {
      name: String(n.name),
      partitions: Number(n.partitions),
      isolatedCores: n.isolated_cores as number[],
      software: software.filter((s) => s.node === n.name).map((s) => String(s.url)),
      usedPartitions: mine.map((i) => Number(i.partition)),
      usedCores: mine.flatMap((i) => i.cores as number[]),
    };
  });
}
