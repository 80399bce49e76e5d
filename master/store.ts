import type {
  InstanceLimits,
  InstanceReport,
  InstanceSecrets,
  InstanceStatus,
  PromiseResult,
  RequestedState,
  TelemetryChunk,
  TelemetryLoss,
  UsageReport,
} from "../protocol/index.js";
import type {
  DecodeFailure,
  DecodeFailureQuery,
  ReadingCounts,
  SchemaResult,
} from "./readings/health.js";
import type { ReadingsSource } from "./readings/reading.js";
import type { RetentionPolicy } from "./readings/retention-policy.js";
import type { TelemetryStatus } from "./status/telemetry-status.js";

/** Times are ms since the epoch throughout. */
export interface NodeRecord {
  name: string;
  publicKey: string;
  addedAt: number;
  /** Facts from the node's last hello; null until it has said hello. */
  arch: string | null;
  board: string | null;
  cpus: number | null;
  agentVersion: string | null;
  partitions: number;
  isolatedCores: number[];
  registeredAt: number | null;
  lastSeen: number | null;
}

export interface NodeFacts {
  agentVersion: string;
  arch: string;
  board: string;
  cpus: number;
  partitions: number;
  isolatedCores: number[];
}

export interface InstanceRecord {
  name: string;
  software: string;
  parameters: Record<string, string>;
  /** Null while `waiting` and not asked for on a given node. */
  node: string | null;
  /** Null while `waiting`. */
  partition: number | null;
  cores: number[];
  requestedState: RequestedState;
  /**
   * `waiting` while no node can take it (its `placement` promise says why); `pending`
   * once placed, until the node first reports on it.
   */
  status: InstanceStatus | "pending" | "waiting";
  promises: PromiseResult[];
  connection: Record<string, string>;
  /** The instance that requested this one (`requests:`), or null when an operator did. */
  parent: string | null;
  /** Which keys are secret: the API never shows their values (see master/secrets.ts). */
  secrets: SecretMarks;
  /** What its node last reported holds for it (memory, tasks, CPU, files, disk); absent until then. */
  limits?: InstanceLimits;
  createdAt: number;
  updatedAt: number;
  reportedAt: number | null;
}

/** What makes a parameter or connection value secret at the master. */
export interface SecretMarks {
  /**
   * Parameter keys the requester marked secret (`outpost request --secret KEY`, or a
   * parent whose own secret the parameter carries). Once marked, kept for the instance's life.
   */
  requested: string[];
  /**
   * The keys the node reported its release marks `x-outpost-secret`; null until the node
   * has reported them (every parameter and connection value is masked meanwhile).
   */
  reported: InstanceSecrets | null;
}

/** An instance that has its place: a node and a partition. */
export type PlacedInstance = InstanceRecord & { node: string; partition: number };

export function isPlaced(i: InstanceRecord): i is PlacedInstance {
  return i.node !== null && i.partition !== null;
}

/** The pseudo-promise that says why a `waiting` request is not placed yet. */
export const PLACEMENT_PROMISE = "placement";

/** Secret marks kept and added: a key once secret stays masked. */
export function addSecretMarks(kept: readonly string[], added: readonly string[] = []): string[] {
  return [...new Set([...kept, ...added])].sort();
}

export interface InstanceRequest {
  name: string;
  software: string;
  parameters: Record<string, string>;
  /** Place on this node; otherwise the allocator picks one. */
  node?: string;
  /** Isolated cores the instance needs for real time; 0 when it does not ask for real time. */
  cores: number;
  /** The requesting instance, when another instance asks for this one. */
  parent?: string;
  /** Parameter keys whose values must never be shown (added to those marked before). */
  secrets?: string[];
}

/** What the allocator sees of one node, read inside the placing transaction. */
export interface NodeCapacity {
  name: string;
  partitions: number;
  isolatedCores: number[];
  software: string[];
  usedPartitions: number[];
  usedCores: number[];
}

export interface Placement {
  node: string;
  partition: number;
  cores: number[];
}

/** Picks a placement or throws (NoCapacityError); pure, see allocation.ts. */
/** A waiting request (as `toWaiting` gives it) and its cores, asked for again. */
export function requestOfWaiting(w: InstanceRecord, cores: number): InstanceRequest {
  return {
    name: w.name,
    software: w.software,
    parameters: w.parameters,
    secrets: w.secrets.requested,
    cores,
    ...(w.node !== null ? { node: w.node } : {}),
  };
}

export type Placer = (request: InstanceRequest, nodes: NodeCapacity[]) => Placement;

/**
 * A chunk as the store keeps it. Once decoded into readings its body is dropped (the
 * row stays, so a resend is still a duplicate): `queryChunks` with `withBody` gives the
 * bodies of chunks kept raw (awaiting their schema, or failed to decode) and an empty
 * body for decoded ones.
 */
export type StoredChunk = Omit<TelemetryChunk, "v" | "id" | "type" | "node"> & {
  /** The node's name. */
  node: string;
  receivedAt: number;
};

export type StoredLoss = Omit<TelemetryLoss, "v" | "id" | "type" | "node"> & {
  node: string;
  receivedAt: number;
};

export type StoredUsage = UsageReport & { node: string; receivedAt: number };

export interface TelemetryQuery {
  node?: string;
  stream?: string;
  /** Only what was received at or after this time. */
  since?: number;
  /** At most this many rows, oldest first (default 1000). */
  limit?: number;
  /** Include each chunk's body (default false: metadata only). */
  withBody?: boolean;
}

/** The result of storing one chunk or loss event: `duplicate` if it was there already. */
export interface IngestResult {
  duplicate: boolean;
}

/** How a store is opened (the same for every backend). */
export interface StoreOptions {
  /**
   * What is kept and for how long (default: everything, forever). Ingest applies it as
   * readings arrive; `applyRetention` deletes what it no longer keeps.
   */
  retention?: RetentionPolicy;
  /**
   * Write the telemetry outbox: each chunk decoded into readings gets its messages for
   * NATS JetStream in the transaction that stores its readings (`--nats`; see fanout/).
   */
  outbox?: boolean;
}

/** A message for NATS JetStream of one decoded chunk (fanout/telemetry-message.ts). */
export interface OutboxEntry {
  node: string;
  stream: string;
  chunkId: number;
  /** Which part of the chunk's readings, from 0; `parts` is 1 when one message holds them all. */
  part: number;
  parts: number;
  /** Readings in the message. */
  readings: number;
  /** The message as published (JSON, UTF-8). */
  payload: Uint8Array;
}

/** A message waiting in the outbox; `id` gives the order the messages were written in. */
export type OutboxMessage = OutboxEntry & { id: number };

/** How much the outbox holds. */
export interface OutboxState {
  messages: number;
  /** When the oldest waiting message was written (ms since the epoch), null when none waits. */
  oldestAt: number | null;
}

/** What one retention run deleted. */
export interface RetentionResult {
  /** Raw readings past their stream's raw retention. */
  readings: number;
  /** 1-minute rollups past their stream's rollup retention. */
  rollups: number;
  /** Decoded chunk bodies kept for replay past `keepChunksMs` (their dedupe rows stay). */
  chunkBodies: number;
  /** Series left with neither raw readings nor rollups (gone from `readingSeries`). */
  series: number;
  /** False when the run was stopped by its signal before the end. */
  complete: boolean;
}

/** A run that has deleted nothing yet. */
export function startedRetention(): RetentionResult {
  return { readings: 0, rollups: 0, chunkBodies: 0, series: 0, complete: false };
}

/**
 * What a store several masters share (PostgreSQL) answers for all of them, so `node
 * list`, `/v1/status` and the status page say the same on every master. A store only one
 * master uses (SQLite) has none: that master keeps these in memory (status/telemetry-view.ts,
 * and the control link's unbatched last-seen times).
 */
export interface SharedStatus {
  /**
   * Records/s (chunks received within the window), per-node totals and every instance's
   * last buffer backlog, all as committed to the store.
   */
  telemetryStatus(now: number): Promise<TelemetryStatus>;
}

/**
 * A committed change to what a node must run: software supplied to it, an instance placed
 * on it or requested again, stopped, started or destroyed there, the node added.
 */
export interface NodeChange {
  /** The node whose desired state changed; null: any node's may have (notices were missed). */
  node: string | null;
  /** When it was committed, ms since the epoch, on the clock of the master that made it. */
  at: number;
}

/** Told of each NodeChange; it must not throw (the store has nowhere to report it). */
export type NodeChangeListener = (change: NodeChange) => void;

/**
 * Everything the master keeps. One interface, one conformance suite
 * (test/master/store-conformance.ts) that every backend passes. All methods are async so
 * a networked backend (PostgreSQL) fits; each call is atomic. Names that do not exist
 * raise NotFoundError, taken names or keys ConflictError.
 */
export interface MasterStore extends ReadingsSource {
  /**
   * Present when several masters may share this store: the status telemetry is read from
   * it, and nodes' presence only from `lastSeen` as stored (`touchNodes`), never from one
   * master's memory.
   */
  readonly shared?: SharedStatus;
  addNode(name: string, publicKey: string, at: number): Promise<NodeRecord>;
  getNode(name: string): Promise<NodeRecord | undefined>;
  findNodeByKey(publicKey: string): Promise<NodeRecord | undefined>;
  listNodes(): Promise<NodeRecord[]>;
  /** Stores the facts of a node's hello. */
  registerNode(name: string, facts: NodeFacts, at: number): Promise<void>;
  /** Records when nodes were last heard from (batched by the caller). */
  touchNodes(seen: ReadonlyMap<string, number>): Promise<void>;

  /** Supplies software to a node; supplying it again changes nothing. */
  supply(node: string, software: string, at: number): Promise<void>;
  listSoftware(node: string): Promise<string[]>;

  /**
   * Creates an instance, placed by `place` over the nodes' capacity read in the same
   * transaction (two requests can never get the same partition or core). Requesting an
   * existing instance again updates its parameters and sets it `started`, keeping its
   * placement; with other software it switches to that (which must be supplied to its
   * node), in the same partition, and its reported secret keys are forgotten until the
   * node reports the new release's; another node is a conflict. Secret marks of the
   * request are added to the instance's. With `wait`, a request no
   * node can take now is kept `waiting` (with the reason) instead of refused.
   */
  requestInstance(
    request: InstanceRequest,
    place: Placer,
    at: number,
    options?: { wait?: boolean },
  ): Promise<InstanceRecord>;
  /**
   * Places every `waiting` request that fits now, oldest first (called when capacity may
   * have appeared: a hello, a destroy, a supply); returns the names placed.
   */
  placeWaiting(place: Placer, at: number): Promise<string[]>;
  getInstance(name: string): Promise<InstanceRecord | undefined>;
  /** Instances by name; `parent` lists the instances one instance requested. */
  listInstances(filter?: { node?: string; parent?: string }): Promise<InstanceRecord[]>;
  /**
   * Sets what the operator (or a parent) wants. `destroyed` also destroys, in the same
   * transaction, every instance it requested, and theirs: children never outlive their
   * parent.
   */
  setRequestedState(name: string, state: RequestedState, at: number): Promise<InstanceRecord>;
  /**
   * Applies a node's report on its instances (its `secrets`, when present, replace the
   * reported ones; its `limits`, when present, replace the last ones; a shared store also
   * keeps its `buffer` backlog, forgotten once it is reported destroyed). Instances not placed on that node are ignored and returned by name. An instance the node reports `destroyed` after it was
   * requested destroyed is deleted, freeing its partition and cores.
   */
  applyReport(node: string, reports: InstanceReport[], at: number): Promise<string[]>;

  /**
   * Stores usage figures of instances placed on `node`; figures for any other instance
   * are ignored and returned by name. A resent figure (same instance and period) is kept
   * once.
   */
  addUsage(node: string, usage: UsageReport[], at: number): Promise<string[]>;
  listUsage(instance: string, limit?: number): Promise<StoredUsage[]>;

  /**
   * Stores chunks in one transaction, each once per (node, chunk id), decoded into
   * readings (one per record) in that transaction when its schema is stored, and the
   * good numeric ones merged into their minute's rollup in that transaction too. A
   * reading past its stream's raw retention at the chunk's `receivedAt` is not stored
   * raw but counted `expired` (and still rolled up unless past the rollup retention). A chunk
   * whose schema is not stored yet is kept raw until `addSchema` brings it; one that does
   * not decode is kept raw with the reason (`decodeFailures`). Neither, nor any time
   * stamp, fails the transaction.
   */
  ingestChunks(chunks: StoredChunk[]): Promise<IngestResult[]>;
  /**
   * Stores a record schema under its fingerprint (once; checked first, see
   * readings/schema-check.ts: SchemaRefusedError when it does not hold) and, in the same
   * transaction, decodes every chunk that awaited it.
   */
  addSchema(fingerprint: Uint8Array, schema: string, at: number): Promise<SchemaResult>;
  /** Chunks kept raw because they did not decode, newest first, with the reason. */
  decodeFailures(query?: DecodeFailureQuery): Promise<DecodeFailure[]>;
  /** Per node: late, clock-suspect and expired readings, chunks awaiting a schema or failed. */
  readingCounts(): Promise<ReadingCounts[]>;
  /**
   * Deletes what the store's retention policy no longer keeps at `now`: raw readings by
   * their time stamp, rollups by their minute's end, decoded chunk bodies kept for replay
   * by when they were received (the chunk rows, the dedupe record, always stay), and
   * series left with neither readings nor rollups. It never stalls ingest: ingest keeps
   * committing (and acking) while it runs. Stops early, its result `complete: false`,
   * once `signal` aborts.
   */
  applyRetention(now: number, signal?: AbortSignal): Promise<RetentionResult>;
  /**
   * Up to `limit` outbox messages, oldest first, leased to the caller for `leaseMs`: no
   * other claim (on any master of the store) gets them until the lease ends or
   * `settleOutbox` releases them, so two publishers never publish the same message at
   * once. A publisher that stops mid-batch leaves its messages to the next claim after
   * the lease.
   */
  claimOutbox(limit: number, leaseMs: number): Promise<OutboxMessage[]>;
  /**
   * Deletes the messages JetStream acknowledged (`published`) and releases the lease of
   * those to try again (`retry`), in one transaction.
   */
  settleOutbox(published: readonly number[], retry: readonly number[]): Promise<void>;
  outboxState(): Promise<OutboxState>;
  /** Stores loss events, each once per (node, loss id). */
  recordLosses(losses: StoredLoss[]): Promise<IngestResult[]>;
  queryChunks(query: TelemetryQuery): Promise<StoredChunk[]>;
  queryLosses(query: TelemetryQuery): Promise<StoredLoss[]>;

  /**
   * Calls `listener` after each change to a node's desired state commits (what a `sync`
   * answers: `supply`, `requestInstance`, `placeWaiting`, `setRequestedState`, `addNode`;
   * a node's own report is not one), once per node per transaction. On SQLite these are
   * this process's changes; on PostgreSQL every master's on the database, each master
   * told of its own too (NOTIFY in the changing transaction, so only on commit), and
   * `node: null` after the store listened again following a lost connection. Returns
   * the function that stops the calls.
   */
  onNodeChanged(listener: NodeChangeListener): () => void;
  /** Resolves once the store answered a trivial query (`/readyz`); rejects if it cannot. */
  ping(): Promise<void>;

  close(): Promise<void>;
}
