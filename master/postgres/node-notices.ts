import type postgres from "postgres";

/**
 * The channel every master on a database LISTENs on. A notice's payload is JSON,
 * `{"node": NAME, "at": MS}`: the node whose desired state changed and when (the
 * changing master's clock, just before its commit), from which the receiving master
 * measures how long the change took to reach the node (`notify lag`).
 */
export const NODE_CHANGED_CHANNEL = "outpost_node_changed";

/**
 * Queues one notice per node in the transaction `tx`: PostgreSQL delivers them when it
 * commits, and never if it rolls back, so a master is never woken for a change that did
 * not happen, nor before the change is there to read.
 */
export async function notifyNodesChanged(
  tx: postgres.TransactionSql,
  nodes: ReadonlySet<string>,
  at = Date.now(),
): Promise<void> {
  if (nodes.size === 0) return;
  const payloads = [...nodes].map((node) => JSON.stringify({ node, at }));
  await tx`SELECT pg_notify(${NODE_CHANGED_CHANNEL}, p) FROM unnest(${payloads}::text[]) AS p`;
}

/** A notice's payload as a change, or undefined when it is not one of ours. */
export function parseNotice(payload: string): { node: string; at: number } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const { node, at } = (value ?? {}) as { node?: unknown; at?: unknown };
  if (typeof node !== "string" || node.length === 0 || node.length > 63) return undefined;
  if (typeof at !== "number" || !Number.isFinite(at)) return undefined;
  return { node, at };
}
