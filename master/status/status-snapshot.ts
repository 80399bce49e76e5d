import { type InstanceView, withState } from "../instance-state.js";
import type { DecodeFailure, ReadingCounts } from "../readings/health.js";
import type { RetentionRun } from "../retention-job.js";
import type { MasterStore, NodeRecord } from "../store.js";
import type { TelemetryStatus } from "./telemetry-status.js";

/** How many of the newest decode failures the page lists (`telemetry query` lists them all). */
const FAILURES_SHOWN = 5;

/** A node is online when it was heard from this recently (agents sync every few seconds). */
export const ONLINE_WITHIN_MS = 20_000;

/** A node as the API and the page show it: its record, when last heard from, online or not. */
export type NodePresence = NodeRecord & { online: boolean };

/**
 * `lastSeen` (the control link's, unbatched; nothing when several masters share the
 * store, so that all answer alike) merged into the stored records.
 */
export function withPresence(
  nodes: readonly NodeRecord[],
  lastSeen: (node: string) => number | undefined,
  now: number,
): NodePresence[] {
  return nodes.map((n) => {
    const seen = Math.max(n.lastSeen ?? 0, lastSeen(n.name) ?? 0);
    return { ...n, lastSeen: seen || null, online: seen > 0 && now - seen < ONLINE_WITHIN_MS };
  });
}

export interface StatusSnapshot {
  at: number;
  nodes: NodePresence[];
  instances: InstanceView[];
  telemetry: TelemetryStatus;
  /** Per node: late and clock-suspect readings, chunks awaiting a schema or failing decode. */
  readingCounts: ReadingCounts[];
  /** The newest chunks that did not decode, with the reason. */
  decodeFailures: DecodeFailure[];
  /** The last retention run (what it deleted, when, how long it took); null before the first. */
  retention: RetentionRun | null;
}

/** Where the status telemetry comes from: the master's memory (TelemetryView) or the store. */
export interface TelemetrySource {
  status(now: number): TelemetryStatus | Promise<TelemetryStatus>;
}

/** Everything the status page shows, in one document (sent again on every update). */
export async function statusSnapshot(
  store: MasterStore,
  telemetry: TelemetrySource,
  lastSeen: (node: string) => number | undefined,
  now: number,
  retention?: RetentionRun,
): Promise<StatusSnapshot> {
  const [nodes, instances, readingCounts, decodeFailures, telemetryStatus] = await Promise.all([
    store.listNodes(),
    store.listInstances(),
    store.readingCounts(),
    store.decodeFailures({ limit: FAILURES_SHOWN }),
    telemetry.status(now),
  ]);
  return {
    at: now,
    nodes: withPresence(nodes, lastSeen, now),
    instances: instances.map(withState),
    telemetry: telemetryStatus,
    readingCounts,
    decodeFailures,
    retention: retention ?? null,
  };
}
