import type postgres from "postgres";
import { hasCode } from "../../common/errors.js";
import type { InstanceReport, RequestedState, UsageReport } from "../../protocol/index.js";
import { ConflictError, NotFoundError } from "../errors.js";
import { NodeChangeFeed } from "../node-changes.js";
import type {
  DecodeFailure,
  DecodeFailureQuery,
  ReadingCounts,
  SchemaResult,
} from "../readings/health.js";
import type {
  AggregatePoint,
  AggregateQuery,
  Reading,
  ReadingsQuery,
  SeriesKey,
  SeriesQuery,
} from "../readings/reading.js";
import { KEEP_EVERYTHING, type RetentionPolicy } from "../readings/retention-policy.js";
import { compileSchema } from "../readings/schema-check.js";
import {
  addSecretMarks,
  type IngestResult,
  type InstanceRecord,
  type InstanceRequest,
  type MasterStore,
  type NodeChangeListener,
  type NodeFacts,
  type NodeRecord,
  type OutboxMessage,
  type OutboxState,
  type PlacedInstance,
  type Placer,
  type RetentionResult,
  requestOfWaiting,
  type SharedStatus,
  type StoredChunk,
  type StoredLoss,
  type StoredUsage,
  type StoreOptions,
  type TelemetryQuery,
} from "../store.js";
import { readCapacity } from "./capacity.js";
import { connect, unavailable } from "./connection.js";
import { LOCK, lockExclusive } from "./locks.js";
import { migrate } from "./migrations.js";
import { notifyNodesChanged } from "./node-notices.js";
import { NodeNoticeListener, type ProbeTiming } from "./notice-listener.js";
import { PgOutbox } from "./outbox.js";
import { PgReadingsQueries } from "./readings-queries.js";
import { PgReadingsWriter } from "./readings-writer.js";
import { PgRetention } from "./retention.js";
import { type Row, toInstance, toNode, toUsage, toWaiting } from "./rows.js";
import { selectTelemetryStatus } from "./status-queries.js";
import {
  selectChunks,
  selectDecodeFailures,
  selectLosses,
  selectReadingCounts,
} from "./telemetry-queries.js";
import { retryTransient } from "./transient.js";

type Tx = postgres.TransactionSql;

/**
 * The store in PostgreSQL: the same tables as SQLite's (postgres/migrations.ts), readings
 * partitioned by day. Each call is one transaction (READ COMMITTED), committed before it
 * returns: the master acks chunks only after that. Several masters may share the
 * database: placement is serialized across all of them (see `requestInstance`), and
 * presence and the status telemetry are answered from the database (`shared`). A
 * transaction that changes a node's desired state NOTIFYs every master on the database
 * (postgres/node-notices.ts).
 */
export class PgStore implements MasterStore {
  readonly shared: SharedStatus;
  private readonly writer: PgReadingsWriter;
  private readonly queries: PgReadingsQueries;
  private readonly retention: PgRetention;
  private readonly outbox: PgOutbox;

  private constructor(
    private readonly sql: postgres.Sql,
    /** Where the server is, for messages. */
    readonly where: string,
    now: () => number,
    private readonly policy: RetentionPolicy,
    private readonly changes: NodeChangeFeed,
    private readonly listener: NodeNoticeListener,
    outbox: boolean,
  ) {
    this.writer = new PgReadingsWriter(now, policy, outbox);
    this.outbox = new PgOutbox(sql);
    this.queries = new PgReadingsQueries(sql);
    this.retention = new PgRetention(sql, this.writer);
    this.shared = { telemetryStatus: (at) => selectTelemetryStatus(sql, at) };
  }

  /**
   * Connects to `url` (no password in it: see connection.ts) and migrates the database;
   * StoreUnavailableError when the server cannot be reached or refuses the login,
   * StoreVersionError when a newer master wrote it. `now` (for tests) is the clock that
   * decides which days get a readings partition (partitions.ts); `noticeProbe` (for
   * tests) how the LISTEN connection proves it is alive (notice-listener.ts).
   */
  static async open(
    url: string,
    options: StoreOptions & { now?: () => number; noticeProbe?: ProbeTiming } = {},
  ): Promise<PgStore> {
    const { sql, where } = connect(url);
    const changes = new NodeChangeFeed();
    const listener = new NodeNoticeListener(
      () => connect(url).sql,
      sql,
      changes,
      options.noticeProbe,
    );
    try {
      await migrate(sql);
      await listener.start();
    } catch (err) {
      await sql.end({ timeout: 1 });
      throw unavailable(err, where);
    }
    return new PgStore(
      sql,
      where,
      options.now ?? Date.now,
      options.retention ?? KEEP_EVERYTHING,
      changes,
      listener,
      options.outbox ?? false,
    );
  }

  async addNode(name: string, publicKey: string, at: number): Promise<NodeRecord> {
    return this.changing(async (tx, changed) => {
      const [clash] =
        await tx`SELECT name FROM nodes WHERE name = ${name} OR public_key = ${publicKey}
        ORDER BY name = ${name} DESC LIMIT 1`;
      if (clash?.name === name) throw new ConflictError(`node '${name}' already exists`);
      if (clash)
        throw new ConflictError(`key ${publicKey} already belongs to node '${String(clash.name)}'`);
      try {
        await tx`INSERT INTO nodes (name, public_key, added_at) VALUES (${name}, ${publicKey}, ${at})`;
      } catch (err) {
        // Another caller added the same name or key since the check.
        if (hasCode(err, "23505"))
          throw new ConflictError(`node '${name}' or key ${publicKey} already exists`);
        throw err;
      }
      changed.add(name);
      return this.nodeRow(tx, name);
    });
  }

  async getNode(name: string): Promise<NodeRecord | undefined> {
    const [row] = await this.sql`SELECT * FROM nodes WHERE name = ${name}`;
    return row ? toNode(row) : undefined;
  }

  async findNodeByKey(publicKey: string): Promise<NodeRecord | undefined> {
    const [row] = await this.sql`SELECT * FROM nodes WHERE public_key = ${publicKey}`;
    return row ? toNode(row) : undefined;
  }

  async listNodes(): Promise<NodeRecord[]> {
    return (await this.sql`SELECT * FROM nodes ORDER BY name`).map(toNode);
  }

  async registerNode(name: string, facts: NodeFacts, at: number): Promise<void> {
    const result = await this.sql`UPDATE nodes SET arch = ${facts.arch}, board = ${facts.board},
      cpus = ${facts.cpus}, agent_version = ${facts.agentVersion}, partitions = ${facts.partitions},
      isolated_cores = ${facts.isolatedCores}::int4[], registered_at = ${at}, last_seen = ${at}
      WHERE name = ${name}`;
    if (result.count === 0) throw new NotFoundError(`node '${name}' does not exist`);
  }

  async touchNodes(seen: ReadonlyMap<string, number>): Promise<void> {
    if (seen.size === 0) return;
    // By name: another master touching some of the same nodes takes their rows in the
    // same order. The plan may not follow it; a deadlock is then retried.
    const names = [...seen.keys()].sort();
    await retryTransient(
      () => this.sql`UPDATE nodes n SET last_seen = greatest(coalesce(n.last_seen, 0), s.at)
        FROM unnest(${names}::text[], ${names.map((n) => seen.get(n) as number)}::int8[])
          AS s(name, at)
        WHERE n.name = s.name`,
      () => undefined,
    );
  }

  async supply(node: string, software: string, at: number): Promise<void> {
    await this.changing(async (tx, changed) => {
      await this.nodeRow(tx, node);
      const added = await tx`INSERT INTO software (node, url, supplied_at)
        VALUES (${node}, ${software}, ${at}) ON CONFLICT DO NOTHING`;
      if (added.count > 0) changed.add(node);
    });
  }

  async listSoftware(node: string): Promise<string[]> {
    await this.nodeRow(this.sql, node);
    const rows = await this.sql`SELECT url FROM software WHERE node = ${node} ORDER BY url`;
    return rows.map((r) => String(r.url));
  }

  /**
   * Placement, from any number of masters at once, is serialized by one transaction-scoped
   * advisory lock (LOCK.placement) taken before the capacity is read: READ COMMITTED then
   * reads every placement committed before the lock was granted (PostgreSQL makes a
   * commit visible before it releases its locks), so no partition or core is given twice.
   * Neither alternative does better here. Row locks on the candidate nodes (`SELECT … FOR
   * UPDATE` by name) would have to cover every node that has the software, since the
   * allocator compares them all: the same queue with more locks, and those rows are
   * updated by `touchNodes` and `registerNode` in their own order (waits, deadlocks).
   * SERIALIZABLE would abort all but one of any placers running together (each reads the
   * whole instances table), and 200 racing requests would be retried over and over. One
   * lock is one queue: no retries, no deadlock (a placer takes it before any row lock).
   * UNIQUE (node, partition) and placed_cores (node, core) refuse a double placement even
   * so (migrations.ts). Placement is short (a few statements), and rare beside ingest.
   */
  async requestInstance(
    request: InstanceRequest,
    place: Placer,
    at: number,
    options: { wait?: boolean } = {},
  ): Promise<InstanceRecord> {
    return this.changing(async (tx, changed) => {
      await lockExclusive(tx, LOCK.placement);
      const existing = await this.instanceRow(tx, request.name);
      if (existing) {
        if (existing.node !== null) changed.add(existing.node);
        return this.requestAgain(tx, existing, request, at);
      }
      if (request.node) await this.nodeRow(tx, request.node);
      const waiting = await this.waitingRow(tx, request.name);
      const secrets = addSecretMarks(waiting?.secrets.requested ?? [], request.secrets);
      try {
        changed.add(
          await this.place(tx, { ...request, secrets }, place, waiting?.createdAt ?? at, at),
        );
      } catch (err) {
        if (!hasCode(err, "E_MASTER_NO_CAPACITY") || !(options.wait || waiting)) throw err;
        await tx`INSERT INTO waiting_requests
            (name, software, parameters, secret_keys, node, cores, reason, created_at, updated_at)
          VALUES (${request.name}, ${request.software}, ${tx.json(request.parameters)},
            ${tx.json(secrets)}, ${request.node ?? null}, ${request.cores}, ${err.message}, ${at}, ${at})
          ON CONFLICT (name) DO UPDATE SET software = excluded.software,
            parameters = excluded.parameters, secret_keys = excluded.secret_keys,
            node = excluded.node, cores = excluded.cores, reason = excluded.reason,
            updated_at = excluded.updated_at`;
        return (await this.waitingRow(tx, request.name)) as InstanceRecord;
      }
      return (await this.instanceRow(tx, request.name)) as InstanceRecord;
    });
  }

  /** An existing instance requested again: see MasterStore.requestInstance. */
  private async requestAgain(
    tx: Tx,
    existing: InstanceRecord,
    request: InstanceRequest,
    at: number,
  ): Promise<InstanceRecord> {
    if (existing.software !== request.software) {
      // A switch: the node installs the new release beside the old one and moves the
      // instance to it in the same partition, its data kept.
      const [supplied] = await tx`SELECT 1 FROM software
        WHERE node = ${existing.node} AND url = ${request.software}`;
      if (!supplied)
        throw new ConflictError(
          `instance '${request.name}' runs ${existing.software}; to switch it to ${request.software}, supply that to node '${existing.node}' first`,
        );
    }
    if (request.node && request.node !== existing.node)
      throw new ConflictError(`instance '${request.name}' already runs on node '${existing.node}'`);
    if (request.cores !== existing.cores.length)
      throw new ConflictError(
        `instance '${request.name}' already holds ${existing.cores.length} cores; destroy it to change that`,
      );
    if (existing.requestedState === "destroyed")
      throw new ConflictError(`instance '${request.name}' is being destroyed`);
    // Another release may mark other keys: masked again until the node says which.
    const reported = existing.software === request.software ? existing.secrets.reported : null;
    await tx`UPDATE instances SET software = ${request.software},
      parameters = ${tx.json(request.parameters)}, requested_state = 'started',
      secret_keys = ${tx.json(addSecretMarks(existing.secrets.requested, request.secrets))},
      reported_secrets = ${reported ? tx.json(reported) : null}, updated_at = ${at}
      WHERE name = ${request.name}`;
    return (await this.instanceRow(tx, request.name)) as InstanceRecord;
  }

  async placeWaiting(place: Placer, at: number): Promise<string[]> {
    return this.changing(async (tx, changed) => {
      await lockExclusive(tx, LOCK.placement);
      const placed: string[] = [];
      const rows = await tx`SELECT * FROM waiting_requests ORDER BY created_at, name`;
      for (const row of rows) {
        const w = toWaiting(row);
        const request = requestOfWaiting(w, Number(row.cores));
        try {
          changed.add(await this.place(tx, request, place, w.createdAt, at));
          placed.push(w.name);
        } catch (err) {
          if (!hasCode(err, "E_MASTER_NO_CAPACITY")) throw err;
          await tx`UPDATE waiting_requests SET reason = ${err.message}
            WHERE name = ${w.name} AND reason <> ${err.message}`;
        }
      }
      return placed;
    });
  }

  /**
   * Places `request` (throws NoCapacityError if no node can take it) and forgets its wait;
   * resolves with the node it was placed on.
   */
  private async place(
    tx: Tx,
    request: InstanceRequest,
    place: Placer,
    createdAt: number,
    at: number,
  ): Promise<string> {
    const placement = place(request, await readCapacity(tx));
    await tx`INSERT INTO instances (name, software, parameters, secret_keys, node, partition,
        cores, requested_state, status, parent, created_at, updated_at)
      VALUES (${request.name}, ${request.software}, ${tx.json(request.parameters)},
        ${tx.json(addSecretMarks([], request.secrets))}, ${placement.node}, ${placement.partition},
        ${placement.cores}::int4[], 'started', 'pending', ${request.parent ?? null}, ${createdAt}, ${at})`;
    await tx`DELETE FROM waiting_requests WHERE name = ${request.name}`;
    return placement.node;
  }

  async getInstance(name: string): Promise<InstanceRecord | undefined> {
    return (await this.instanceRow(this.sql, name)) ?? (await this.waitingRow(this.sql, name));
  }

  async listInstances(filter: { node?: string; parent?: string } = {}): Promise<InstanceRecord[]> {
    const node = filter.node ?? null;
    const parent = filter.parent ?? null;
    const placed = (
      await this.sql`SELECT * FROM instances WHERE (${node}::text IS NULL OR node = ${node})
        AND (${parent}::text IS NULL OR parent = ${parent}) ORDER BY name`
    ).map(toInstance);
    // Waiting requests have no node or parent yet: only the unfiltered list shows them.
    if (node !== null || parent !== null) return placed;
    const waiting = (await this.sql`SELECT * FROM waiting_requests`).map(toWaiting);
    return [...placed, ...waiting].sort((a, b) => a.name.localeCompare(b.name));
  }

  async setRequestedState(
    name: string,
    state: RequestedState,
    at: number,
  ): Promise<InstanceRecord> {
    return this.changing(async (tx, changed) => {
      // A waiting request may be being placed: taken with the placement lock.
      await lockExclusive(tx, LOCK.placement);
      const waiting = await this.waitingRow(tx, name);
      if (waiting) {
        if (state !== "destroyed")
          throw new ConflictError(
            `instance '${name}' is waiting for a place (${waiting.promises[0]?.message}); destroy it or let it be placed`,
          );
        await tx`DELETE FROM waiting_requests WHERE name = ${name}`;
        return { ...waiting, requestedState: "destroyed" as const, updatedAt: at };
      }
      const result = await tx`UPDATE instances SET requested_state = ${state}, updated_at = ${at}
        WHERE name = ${name}`;
      if (result.count === 0) throw new NotFoundError(`instance '${name}' does not exist`);
      if (state === "destroyed") {
        const descendants = await tx`WITH RECURSIVE descendants(name) AS (
            SELECT name FROM instances WHERE parent = ${name}
            UNION SELECT i.name FROM instances i JOIN descendants d ON i.parent = d.name)
          UPDATE instances SET requested_state = 'destroyed', updated_at = ${at}
          WHERE name IN (SELECT name FROM descendants) RETURNING node`;
        for (const d of descendants) changed.add(String(d.node));
      }
      const instance = (await this.instanceRow(tx, name)) as PlacedInstance;
      changed.add(instance.node);
      return instance;
    });
  }

  async applyReport(node: string, reports: InstanceReport[], at: number): Promise<string[]> {
    return this.sql.begin(async (tx) => {
      const ignored: string[] = [];
      for (const r of reports) {
        if (r.status === "destroyed") {
          const removed = await tx`DELETE FROM instances
            WHERE name = ${r.name} AND node = ${node} AND requested_state = 'destroyed'`;
          if (removed.count === 1) continue;
        }
        // Secret keys read from another release than the instance's (a report sent
        // before a switch reached the node) are not its keys: ignored.
        const changed = await tx`UPDATE instances SET status = ${r.status},
          promises = ${tx.json(r.promises)}, connection = ${tx.json(r.connection)},
          reported_secrets = CASE WHEN ${r.secrets?.software ?? null}::text = software
            THEN ${r.secrets ? tx.json(r.secrets) : null}::jsonb ELSE reported_secrets END,
          limits = coalesce(${r.limits ? tx.json(r.limits) : null}::jsonb, limits),
          buffer = CASE WHEN ${r.status}::text = 'destroyed' THEN NULL
            ELSE coalesce(${r.buffer ? tx.json(r.buffer) : null}::jsonb, buffer) END,
          reported_at = ${at}, updated_at = ${at}
          WHERE name = ${r.name} AND node = ${node}`;
        if (changed.count === 0) ignored.push(r.name);
      }
      return ignored;
    });
  }

  async addUsage(node: string, usage: UsageReport[], at: number): Promise<string[]> {
    if (usage.length === 0) return [];
    const col = <T>(f: (u: UsageReport) => T) => usage.map(f);
    const rows = await this.sql`WITH given AS (
        SELECT u.*, EXISTS (SELECT 1 FROM instances i WHERE i.name = u.instance AND i.node = ${node}) AS owned
        FROM unnest(${col((u) => u.instance)}::text[], ${col((u) => u.from)}::int8[],
          ${col((u) => u.to)}::int8[], ${col((u) => u.cpuSeconds)}::float8[],
          ${col((u) => u.memoryPeakBytes)}::int8[])
          WITH ORDINALITY AS u(instance, period_from, period_to, cpu_seconds, memory_peak_bytes, ord)),
      stored AS (INSERT INTO usage (node, instance, period_from, period_to, cpu_seconds,
          memory_peak_bytes, received_at)
        SELECT ${node}, instance, period_from, period_to, cpu_seconds, memory_peak_bytes, ${at}
        FROM given WHERE owned ON CONFLICT DO NOTHING)
      SELECT instance FROM given WHERE NOT owned ORDER BY ord`;
    return rows.map((r) => String(r.instance));
  }

  async listUsage(instance: string, limit = 100): Promise<StoredUsage[]> {
    const rows = await this.sql`SELECT * FROM usage WHERE instance = ${instance}
      ORDER BY period_to DESC LIMIT ${limit}`;
    return rows.map(toUsage);
  }

  async ingestChunks(chunks: StoredChunk[]): Promise<IngestResult[]> {
    if (chunks.length === 0) return [];
    return this.writing((tx) => this.writer.ingest(tx, chunks));
  }

  async addSchema(fingerprint: Uint8Array, schema: string, at: number): Promise<SchemaResult> {
    compileSchema(fingerprint, schema);
    return this.writing(async (tx) => {
      await lockExclusive(tx, LOCK.schemas);
      const inserted = await tx`INSERT INTO schemas (fingerprint, json, received_at)
        VALUES (${Buffer.from(fingerprint)}, ${schema}, ${at}) ON CONFLICT DO NOTHING`;
      return {
        duplicate: inserted.count === 0,
        decodedChunks: await this.writer.decodeAwaiting(tx, fingerprint, at),
      };
    });
  }

  async decodeFailures(query: DecodeFailureQuery = {}): Promise<DecodeFailure[]> {
    return selectDecodeFailures(this.sql, query);
  }

  async readingCounts(): Promise<ReadingCounts[]> {
    return selectReadingCounts(this.sql);
  }

  async applyRetention(now: number, signal?: AbortSignal): Promise<RetentionResult> {
    return this.retention.apply(this.policy, now, signal);
  }

  readingPages(query: ReadingsQuery): AsyncIterable<readonly Reading[]> {
    return this.queries.readingPages(query);
  }

  aggregateReadings(query: AggregateQuery): AsyncIterable<AggregatePoint> {
    return this.queries.aggregates(query);
  }

  readingSeries(query?: SeriesQuery): Promise<SeriesKey[]> {
    return this.queries.readingSeries(query);
  }

  /**
   * A write transaction of the readings writer, which forgets what a rollback undid; run
   * again when PostgreSQL undid it as a deadlock's victim (transient.ts).
   */
  private async writing<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const result = await retryTransient(
      async () => (await this.sql.begin((tx) => work(tx))) as T,
      () => this.writer.rolledBack(),
    );
    this.writer.committed();
    return result;
  }

  claimOutbox(limit: number, leaseMs: number): Promise<OutboxMessage[]> {
    return this.outbox.claim(limit, leaseMs);
  }

  settleOutbox(published: readonly number[], retry: readonly number[]): Promise<void> {
    return this.outbox.settle(published, retry);
  }

  outboxState(): Promise<OutboxState> {
    return this.outbox.state();
  }

  async recordLosses(losses: StoredLoss[]): Promise<IngestResult[]> {
    if (losses.length === 0) return [];
    const col = <T>(f: (l: StoredLoss) => T) => losses.map(f);
    // Arrays in, one row per loss out (ordinality): inserted ones are new, others duplicates
    // (of the table or of an earlier loss in the same call).
    const rows = await this.sql`WITH given AS (
        SELECT * FROM unnest(${col((l) => l.node)}::text[], ${col((l) => l.lossId)}::int8[],
          ${col((l) => l.stream)}::text[], ${col((l) => l.reason)}::text[],
          ${col((l) => l.chunkId)}::int8[], ${col((l) => l.fromSeq)}::int8[],
          ${col((l) => l.toSeq)}::int8[], ${col((l) => l.records)}::int8[],
          ${col((l) => l.at)}::int8[], ${col((l) => l.receivedAt)}::int8[])
          WITH ORDINALITY AS g(node, loss_id, stream, reason, chunk_id, from_seq, to_seq,
            records, at, received_at, ord)),
      stored AS (INSERT INTO telemetry_losses (node, loss_id, stream, reason, chunk_id, from_seq,
          to_seq, records, at, received_at)
        SELECT DISTINCT ON (node, loss_id) node, loss_id, stream, reason, chunk_id, from_seq,
          to_seq, records, at, received_at FROM given ORDER BY node, loss_id, ord
        ON CONFLICT DO NOTHING RETURNING node, loss_id)
      SELECT g.ord, s.node IS NOT NULL
          AND g.ord = min(g.ord) OVER (PARTITION BY g.node, g.loss_id) AS stored
      FROM given g LEFT JOIN stored s ON s.node = g.node AND s.loss_id = g.loss_id
      ORDER BY g.ord`;
    return rows.map((r) => ({ duplicate: !r.stored }));
  }

  async queryChunks(query: TelemetryQuery): Promise<StoredChunk[]> {
    return selectChunks(this.sql, query);
  }

  async queryLosses(query: TelemetryQuery): Promise<StoredLoss[]> {
    return selectLosses(this.sql, query);
  }

  onNodeChanged(listener: NodeChangeListener): () => void {
    return this.changes.subscribe(listener);
  }

  async ping(): Promise<void> {
    await this.sql`SELECT 1`;
  }

  async close(): Promise<void> {
    await this.listener.close();
    await this.sql.end({ timeout: 5 });
  }

  /**
   * One transaction that adds the nodes whose desired state it changed: their notices
   * are its last statement, so they go out with its commit (and the listeners, this
   * master's included, hear of them through LISTEN).
   */
  private async changing<T>(work: (tx: Tx, changed: Set<string>) => Promise<T>): Promise<T> {
    return (await this.sql.begin(async (tx) => {
      const changed = new Set<string>();
      const result = await work(tx, changed);
      await notifyNodesChanged(tx, changed);
      return result;
    })) as T;
  }

  private async nodeRow(sql: postgres.ISql, name: string): Promise<NodeRecord> {
    const [row] = await sql`SELECT * FROM nodes WHERE name = ${name}`;
    if (!row) throw new NotFoundError(`node '${name}' does not exist`);
    return toNode(row);
  }

  private async waitingRow(sql: postgres.ISql, name: string): Promise<InstanceRecord | undefined> {
    const [row] = await sql`SELECT * FROM waiting_requests WHERE name = ${name}`;
    return row ? toWaiting(row as Row) : undefined;
  }

  private async instanceRow(sql: postgres.ISql, name: string): Promise<InstanceRecord | undefined> {
    const [row] = await sql`SELECT * FROM instances WHERE name = ${name}`;
    return row ? toInstance(row as Row) : undefined;
  }
}
