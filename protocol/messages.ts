/**
 * The node↔master messages, protocol version 2. Nodes send requests; the master answers
 * each with exactly one reply carrying the request's `id`. Every message names the
 * sender's node key in `node` (requests) so the master can check its authenticator.
 * Since version 2 the master may also push a `wake` to a node, unasked.
 */
export const PROTOCOL_VERSION = 2;

/**
 * Versions this side reads. Version 1 has no push: a version 1 node is never sent one
 * and finds changes by its periodic sync; its requests are answered in version 1.
 */
export const SUPPORTED_VERSIONS = [1, 2] as const;
export type ProtocolVersion = (typeof SUPPORTED_VERSIONS)[number];

/** The first version whose nodes take pushes (`wake`). */
export const PUSH_SINCE_VERSION = 2;

/** Fields every node request carries. */
export interface RequestBase {
  v: ProtocolVersion;
  /** Chosen by the node, echoed in the reply; unique among the node's pending requests. */
  id: number;
  /** The sending node's public key (Z85). */
  node: string;
}

/** First message on a link: who the node is and what it offers (registration facts). */
export interface Hello extends RequestBase {
  type: "hello";
  agentVersion: string;
  arch: string;
  board: string;
  /** CPUs online on the node. */
  cpus: number;
  /** How many partitions the node offers to instances. */
  partitions: number;
  /** CPU ids isolated for real-time instances. */
  isolatedCores: number[];
}

/** Asks for the node's desired state. */
export interface SyncRequest extends RequestBase {
  type: "sync";
}

export type InstanceStatus =
  | "installing"
  | "starting"
  | "running"
  | "failed"
  | "stopped"
  | "destroyed";

export interface PromiseResult {
  name: string;
  ok: boolean;
  message?: string;
  /** ms since the epoch */
  checkedAt: number;
}

/** An instance another instance needs (`requests:` in its descriptor), rendered by the node. */
export interface InstanceRequestSpec {
  /** The request's name in the descriptor; the master names the instance `PARENT.NAME`. */
  name: string;
  /** The release's URL, resolved against the requesting descriptor's own URL. */
  software: string;
  parameters: Record<string, string>;
  /** Parameters that carry a secret of the requesting instance: the master never shows them. */
  secrets?: string[];
}

/** Keys whose values the master must never show (the release's `x-outpost-secret`). */
export interface InstanceSecrets {
  /** The release (URL) they were read from: the master takes them only for the instance's current one. */
  software: string;
  parameters: string[];
  /** Connection keys whose `publish:` template uses a secret parameter. */
  connection: string[];
}

export interface InstanceReport {
  name: string;
  status: InstanceStatus;
  promises: PromiseResult[];
  /** Published connection parameters (`publish:` in the descriptor), rendered. */
  connection: Record<string, string>;
  /**
   * Every instance this one requests, once the node could render them. Present means
   * complete: the master creates what is listed and destroys children no longer listed.
   */
  requests?: InstanceRequestSpec[];
  /** What the instance's buffer has not delivered yet, as its forwarder last told the agent. */
  buffer?: BufferBacklog;
  /** The limits that hold for it on its node, once it has a partition there. */
  limits?: InstanceLimits;
  /**
   * The keys its release marks secret, once the node knows the release (installed).
   * Absent: not known yet, and the master masks every parameter and connection value.
   */
  secrets?: InstanceSecrets;
}

/**
 * What an instance may use on its node: its partition's limits (every process and
 * command check of it together), whether the release declared them or the node's
 * defaults apply. An absent field is no limit.
 */
export interface InstanceLimits {
  memoryBytes?: number;
  /** Tasks (processes and threads). */
  pids?: number;
  /** CPU bandwidth, cores. */
  cpu?: number;
  /** RLIMIT_NOFILE of each process. */
  openFiles?: number;
  /** Space its files may take on the node's data filesystem. */
  diskBytes?: number;
  /**
   * How `diskBytes` holds: `quota`, a project quota the kernel enforces (writes past it
   * fail); `measured`, the node measures its files and stops it while they are over.
   */
  disk?: "quota" | "measured";
}

/** What a buffer has not delivered yet. */
export interface Backlog {
  records: number;
  bytes: number;
  /** Age of the oldest undelivered record's chunk when measured, ms; 0 when nothing waits. */
  oldestAgeMs: number;
}

/** A partition buffer's undelivered data, as the node reports it with the instance. */
export interface BufferBacklog extends Backlog {
  /**
   * Most records waiting at once over the last minute: a backlog built up while the link
   * was down is usually drained before the node's next report, and this still shows it.
   */
  peakRecords: number;
  /** ms since the epoch when the agent was told. */
  at: number;
}

export interface UsageReport {
  instance: string;
  /** ms since the epoch; the period the figures cover */
  from: number;
  to: number;
  cpuSeconds: number;
  memoryPeakBytes: number;
}

/** What the node observed: instance status, promise results, connection parameters, usage. */
export interface Report extends RequestBase {
  type: "report";
  instances: InstanceReport[];
  usage: UsageReport[];
}

/**
 * One sealed buffer chunk, the one shape it has from the buffer's forwarder to the
 * master: buffer's `Sink` takes it, a partition's local API carries it (its fields as
 * the query, `body` as the request body), the agent's relay renumbers `chunkId`, and the
 * `telemetry` message below is it plus the request fields. `chunkId` is unique per node
 * and stable across resends, so the master stores it once; `firstSeq`..`lastSeq` let it
 * see gaps. Its JSON Schema is `chunkFields` (schemas.ts).
 */
export interface Chunk {
  chunkId: number;
  stream: string;
  /**
   * Fingerprint of the records' schema: the master decodes the body by the schema
   * announced under it (`SchemaAnnouncement`), and keeps the chunk raw until then.
   */
  schema: Uint8Array;
  /** ms since the epoch when the node created the chunk */
  createdAt: number;
  firstSeq: number;
  lastSeq: number;
  /** How many records `body` holds. */
  records: number;
  compression: "none" | "deflate";
  /**
   * The chunk's record frames exactly as on disk (each with its sequence number and
   * CRC32C, see common/record-frame.ts), deflated when `compression` is `deflate`; opaque
   * to the agent, which passes it through as bytes; the master decodes it by its schema.
   */
  body: Uint8Array;
}

/**
 * Records of a stream that will never be delivered, and why: the one shape of a loss
 * event from the buffer (which keeps it in its checkpoint until acknowledged) to the
 * master. `id` is unique per node and stable across resends (the `loss` message calls it
 * `lossId`: `id` is the request's there). Its JSON Schema is `lossFields` (schemas.ts).
 */
export interface Loss {
  id: number;
  stream: string;
  /** `overflow`: dropped by `drop_oldest`; `corrupt`: damaged on disk. */
  reason: "overflow" | "corrupt";
  chunkId: number;
  /** Inclusive sequence range lost; `records` is how many records that is. */
  fromSeq: number;
  toSeq: number;
  records: number;
  /** When the loss was detected, ms since the epoch. */
  at: number;
}

/**
 * The record schema a chunk's `schema` fingerprint names, sent by the producer's side
 * once per fingerprint (per connection) before the first chunk that carries it, and
 * acknowledged, like a chunk, only once the master committed it. `schema` is the text as
 * the producer holds it (for the collector, its Avro schema as JSON); the master checks
 * that its fingerprint is `fingerprint` and bounds its size and nesting before storing
 * it, and decodes the chunks that waited for it. Its JSON Schema is `schemaFields`.
 */
export interface SchemaAnnouncement {
  fingerprint: Uint8Array;
  schema: string;
}

/** A `SchemaAnnouncement` sent to the master. */
export interface TelemetrySchema extends RequestBase, SchemaAnnouncement {
  type: "schema";
}

/** A `Chunk` sent to the master. */
export interface TelemetryChunk extends RequestBase, Chunk {
  type: "telemetry";
}

/** A `Loss` sent to the master, its `id` as `lossId`. */
export interface TelemetryLoss extends RequestBase, Omit<Loss, "id"> {
  type: "loss";
  /** Unique per node and stable across resends; the master stores each once. */
  lossId: number;
}

export type NodeRequest =
  | Hello
  | SyncRequest
  | Report
  | TelemetryChunk
  | TelemetryLoss
  | TelemetrySchema;
export type NodeRequestType = NodeRequest["type"];

/** Fields every master reply carries. */
export interface ReplyBase {
  /** The version of the request it answers. */
  v: ProtocolVersion;
  /** The id of the request this answers. */
  id: number;
}

export interface Welcome extends ReplyBase {
  type: "welcome";
  /** The name the operator gave this node (`outpost node add NAME`). */
  name: string;
}

export type RequestedState = "started" | "stopped" | "destroyed";

/** What the master knows of an instance another one requested. */
export interface RequestedInstance {
  /** The requested instance's own name (`PARENT.NAME`). */
  instance: string;
  /** Running with every promise passing: its connection parameters can be used. */
  ready: boolean;
  /** Its status, or `failed` with `message` when the master could not create it. */
  status: InstanceStatus | "pending";
  message?: string;
  connection: Record<string, string>;
}

export interface DesiredInstance {
  name: string;
  software: string;
  parameters: Record<string, string>;
  partition: number;
  /** Isolated cores reserved for this instance; empty when it does not ask for real time. */
  cores: number[];
  state: RequestedState;
  /** The instances it requested, by request name; absent when it requested none. */
  requested?: Record<string, RequestedInstance>;
}

export interface DesiredState extends ReplyBase {
  type: "desired";
  /** Software release URLs the node must install. */
  software: string[];
  instances: DesiredInstance[];
}

export interface Ack extends ReplyBase {
  type: "ack";
  /** Set when acking a telemetry chunk: the chunk and whether it had been stored before. */
  chunkId?: number;
  /** Set when acking a loss event. */
  lossId?: number;
  /** Set when acking a chunk, a loss event or a schema: the master held it already. */
  duplicate?: boolean;
  /** Set when acking a report: the instances the master dropped as invalid, and why. */
  rejected?: RejectedInstance[];
}

/** An instance of a report the master dropped; the rest of the report was applied. */
export interface RejectedInstance {
  name: string;
  reason: string;
}

export interface ErrorReply extends ReplyBase {
  type: "error";
  code: string;
  message: string;
}

export type MasterReply = Welcome | DesiredState | Ack | ErrorReply;
export type MasterReplyType = MasterReply["type"];

/**
 * Master → node, unasked: the node's desired state changed, sync now. It carries the key
 * of the node it is for and, like a request, an authenticator under the link key (in
 * the master's direction, see message-auth.ts): a node takes only a wake meant for it.
 * It has no `id` and is never answered.
 */
export interface Wake {
  v: typeof PUSH_SINCE_VERSION;
  type: "wake";
  /** The public key (Z85) of the node it is for. */
  node: string;
}

export type MasterPush = Wake;

/** A request's payload as the node's client takes it; the link fills in `v`, `id`, `node`, `type`. */
export type RequestBody<T extends NodeRequest> = Omit<T, keyof RequestBase | "type">;
