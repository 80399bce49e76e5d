import type Database from "better-sqlite3";
import type { NodeCapacity } from "../store.js";
import type { Row } from "./rows.js";

/**
 * What the allocator sees of every node: partitions and isolated cores offered (from its
 * hello), software supplied, partitions and cores taken. Called inside the transaction
 * that then writes the placement, so two requests never get the same partition or core.
 */
export function readCapacity(db: Database.Database): NodeCapacity[] {
  const nodes = db.prepare("SELECT name, partitions, isolated_cores FROM nodes").all() as Row[];
  const software = db.prepare("SELECT node, url FROM software").all() as Row[];
  const instances = db.prepare("SELECT node, partition, cores FROM instances").all() as Row[];
  return nodes.map((n) => {
    const mine = instances.filter((i) => i.node === n.name);
    return {
      name: String(n.name),
      partitions: Number(n.partitions),
      isolatedCores: JSON.parse(String(n.isolated_cores)) as number[],
      software: software.filter((s) => s.node === n.name).map((s) => String(s.url)),
      usedPartitions: mine.map((i) => Number(i.partition)),
      usedCores: mine.flatMap((i) => JSON.parse(String(i.cores)) as number[]),
    };
  });
}
