import type { InstanceLimits, RequestedState } from "../../protocol/index.js";
import {
  type InstanceRecord,
  type NodeRecord,
  PLACEMENT_PROMISE,
  type SecretMarks,
  type StoredChunk,
  type StoredLoss,
  type StoredUsage,
} from "../store.js";

/** SQLite rows to the store's records. */
export type Row = Record<string, unknown>;

export function toNode(r: Row): NodeRecord {
  return {
    name: String(r.name),
    publicKey: String(r.public_key),
    addedAt: Number(r.added_at),
    arch: (r.arch as string | null) ?? null,
    board: (r.board as string | null) ?? null,
    cpus: (r.cpus as number | null) ?? null,
    agentVersion: (r.agent_version as string | null) ?? null,
    partitions: Number(r.partitions),
    isolatedCores: JSON.parse(String(r.isolated_cores)) as number[],
    registeredAt: (r.registered_at as number | null) ?? null,
    lastSeen: (r.last_seen as number | null) ?? null,
  };
}

export function toInstance(r: Row): InstanceRecord {
  return {
    name: String(r.name),
    software: String(r.software),
    parameters: JSON.parse(String(r.parameters)) as Record<string, string>,
    node: String(r.node),
    partition: Number(r.partition),
    cores: JSON.parse(String(r.cores)) as number[],
    requestedState: r.requested_state as RequestedState,
    status: r.status as InstanceRecord["status"],
    promises: JSON.parse(String(r.promises)) as InstanceRecord["promises"],
    connection: JSON.parse(String(r.connection)) as Record<string, string>,
    parent: (r.parent as string | null) ?? null,
    secrets: secretMarks(r),
    ...(typeof r.limits === "string" ? { limits: JSON.parse(r.limits) as InstanceLimits } : {}),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    reportedAt: (r.reported_at as number | null) ?? null,
  };
}

/** `secret_keys` and, for placed instances, `reported_secrets` (NULL: not reported yet). */
function secretMarks(r: Row): SecretMarks {
  const reported = r.reported_secrets as string | null | undefined;
  return {
    requested: JSON.parse(String(r.secret_keys ?? "[]")) as string[],
    reported: reported ? (JSON.parse(reported) as SecretMarks["reported"]) : null,
  };
}

export function toWaiting(r: Row): InstanceRecord {
  return {
    name: String(r.name),
    software: String(r.software),
    parameters: JSON.parse(String(r.parameters)) as Record<string, string>,
    node: (r.node as string | null) ?? null,
    partition: null,
    cores: [],
    requestedState: "started",
    status: "waiting",
    promises: [
      {
        name: PLACEMENT_PROMISE,
        ok: false,
        message: `waiting: ${String(r.reason)}`,
        checkedAt: Number(r.updated_at),
      },
    ],
    connection: {},
    parent: null,
    secrets: secretMarks(r),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    reportedAt: null,
  };
}

export function toUsage(r: Row): StoredUsage {
  return {
    node: String(r.node),
    instance: String(r.instance),
    from: Number(r.period_from),
    to: Number(r.period_to),
    cpuSeconds: Number(r.cpu_seconds),
    memoryPeakBytes: Number(r.memory_peak_bytes),
    receivedAt: Number(r.received_at),
  };
}

/** A chunk row; `body` is empty when the query did not select it. */
export function toChunk(r: Row): StoredChunk {
  return {
    node: String(r.node),
    chunkId: Number(r.chunk_id),
    stream: String(r.stream),
    schema: r.schema as Buffer,
    createdAt: Number(r.created_at),
    firstSeq: Number(r.first_seq),
    lastSeq: Number(r.last_seq),
    records: Number(r.records),
    compression: r.compression as StoredChunk["compression"],
    body: (r.body as Buffer | undefined) ?? Buffer.alloc(0),
    receivedAt: Number(r.received_at),
  };
}

export function toLoss(r: Row): StoredLoss {
  return {
    node: String(r.node),
    lossId: Number(r.loss_id),
    stream: String(r.stream),
    reason: r.reason as StoredLoss["reason"],
    chunkId: Number(r.chunk_id),
    fromSeq: Number(r.from_seq),
    toSeq: Number(r.to_seq),
    records: Number(r.records),
    at: Number(r.at),
    receivedAt: Number(r.received_at),
  };
}
