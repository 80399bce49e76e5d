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

/**
 * PostgreSQL rows to the store's records. postgres.js gives bigint columns as decimal
 * strings (every time here is a bigint of ms), jsonb parsed, integer[] as numbers.
 */
export type Row = Record<string, unknown>;

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: unknown): string | null => (typeof v === "string" ? v : null);

export function toNode(r: Row): NodeRecord {
  return {
    name: String(r.name),
    publicKey: String(r.public_key),
    addedAt: num(r.added_at),
    arch: strOrNull(r.arch),
    board: strOrNull(r.board),
    cpus: numOrNull(r.cpus),
    agentVersion: strOrNull(r.agent_version),
    partitions: num(r.partitions),
    isolatedCores: r.isolated_cores as number[],
    registeredAt: numOrNull(r.registered_at),
    lastSeen: numOrNull(r.last_seen),
  };
}

export function toInstance(r: Row): InstanceRecord {
  return {
    name: String(r.name),
    software: String(r.software),
    parameters: r.parameters as Record<string, string>,
    node: String(r.node),
    partition: num(r.partition),
    cores: r.cores as number[],
    requestedState: r.requested_state as RequestedState,
    status: r.status as InstanceRecord["status"],
    promises: r.promises as InstanceRecord["promises"],
    connection: r.connection as Record<string, string>,
    parent: strOrNull(r.parent),
    secrets: secretMarks(r),
    ...(r.limits ? { limits: r.limits as InstanceLimits } : {}),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    reportedAt: numOrNull(r.reported_at),
  };
}

function secretMarks(r: Row): SecretMarks {
  return {
    requested: (r.secret_keys ?? []) as string[],
    reported: (r.reported_secrets ?? null) as SecretMarks["reported"],
  };
}

export function toWaiting(r: Row): InstanceRecord {
  return {
    name: String(r.name),
    software: String(r.software),
    parameters: r.parameters as Record<string, string>,
    node: strOrNull(r.node),
    partition: null,
    cores: [],
    requestedState: "started",
    status: "waiting",
    promises: [
      {
        name: PLACEMENT_PROMISE,
        ok: false,
        message: `waiting: ${String(r.reason)}`,
        checkedAt: num(r.updated_at),
      },
    ],
    connection: {},
    parent: null,
    secrets: secretMarks(r),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    reportedAt: null,
  };
}

export function toUsage(r: Row): StoredUsage {
  return {
    node: String(r.node),
    instance: String(r.instance),
    from: num(r.period_from),
    to: num(r.period_to),
    cpuSeconds: num(r.cpu_seconds),
    memoryPeakBytes: num(r.memory_peak_bytes),
    receivedAt: num(r.received_at),
  };
}

/** A chunk row; `body` is empty when the query did not select it (or it was dropped). */
export function toChunk(r: Row): StoredChunk {
  return {
    node: String(r.node),
    chunkId: num(r.chunk_id),
    stream: String(r.stream),
    schema: r.schema as Buffer,
    createdAt: num(r.created_at),
    firstSeq: num(r.first_seq),
    lastSeq: num(r.last_seq),
    records: num(r.records),
    compression: r.compression as StoredChunk["compression"],
    body: (r.body as Buffer | null | undefined) ?? Buffer.alloc(0),
    receivedAt: num(r.received_at),
  };
}

export function toLoss(r: Row): StoredLoss {
  return {
    node: String(r.node),
    lossId: num(r.loss_id),
    stream: String(r.stream),
    reason: r.reason as StoredLoss["reason"],
    chunkId: num(r.chunk_id),
    fromSeq: num(r.from_seq),
    toSeq: num(r.to_seq),
    records: num(r.records),
    at: num(r.at),
    receivedAt: num(r.received_at),
  };
}
