import Database from "better-sqlite3";
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
  type StoredChunk,
  type StoredLoss,
  type StoredUsage,
  type StoreOptions,
  type TelemetryQuery,
} from "../store.js";
import { readCapacity } from "./capacity.js";
import { migrate } from "./migrations.js";
import { SqliteOutbox } from "./outbox.js";
import { ReadingsQueries } from "./readings-queries.js";
import { ReadingsWriter } from "./readings-writer.js";
import { SqliteRetention } from "./retention.js";
import { type Row, toInstance, toNode, toUsage, toWaiting } from "./rows.js";
import {
  selectChunks,
  selectDecodeFailures,
  selectLosses,
  selectReadingCounts,
} from "./telemetry-queries.js";

/**
 * The embedded store: one SQLite file in WAL mode with `synchronous = FULL`, so a call
 * that returned has its transaction on disk (the master acks chunks only after that).
 * better-sqlite3 is synchronous; the async methods resolve once the work is done.
 */
export class SqliteStore implements MasterStore {
  private readonly db: Database.Database;
  private readonly writer: ReadingsWriter;
  private readonly queries: ReadingsQueries;
  private readonly retention: SqliteRetention;
  private readonly outbox: SqliteOutbox;
  private readonly insertLoss: Database.Statement;
  private readonly changes = new NodeChangeFeed();

  private constructor(
    db: Database.Database,
    private readonly policy: RetentionPolicy,
    outbox: boolean,
  ) {
    this.db = db;
    this.writer = new ReadingsWriter(db, policy, outbox);
    this.outbox = new SqliteOutbox(db);
    this.queries = new ReadingsQueries(db);
    this.retention = new SqliteRetention(db, this.writer);
    this.insertLoss = db.prepare(`INSERT OR IGNORE INTO telemetry_losses
      (node, loss_id, stream, reason, chunk_id, from_seq, to_seq, records, at, received_at)
      VALUES (@node, @lossId, @stream, @reason, @chunkId, @fromSeq, @toSeq, @records, @at, @receivedAt)`);
  }

  /** Opens (creating if needed) the database at `path` and migrates it; `:memory:` works too. */
  static open(path: string, options: StoreOptions = {}): SqliteStore {
    const db = new Database(path);
    try {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      db.pragma("foreign_keys = ON");
      db.pragma("busy_timeout = 5000");
      migrate(db);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteStore(db, options.retention ?? KEEP_EVERYTHING, options.outbox ?? false);
  }

  async addNode(name: string, publicKey: string, at: number): Promise<NodeRecord> {
    return this.changing((changed) =>
      this.db
        .transaction(() => {
          const clash = this.db
            .prepare("SELECT name, public_key FROM nodes WHERE name = ? OR public_key = ?")
            .get(name, publicKey) as Row | undefined;
          if (clash?.name === name) throw new ConflictError(`node '${name}' already exists`);
          if (clash)
            throw new ConflictError(
              `key ${publicKey} already belongs to node '${String(clash.name)}'`,
            );
          this.db
            .prepare("INSERT INTO nodes (name, public_key, added_at) VALUES (?, ?, ?)")
            .run(name, publicKey, at);
          changed.add(name);
          return this.nodeRow(name);
        })
        .immediate(),
    );
  }

  async getNode(name: string): Promise<NodeRecord | undefined> {
    return this.nodeRowOrUndefined(this.db.prepare("SELECT * FROM nodes WHERE name = ?").get(name));
  }

  async findNodeByKey(publicKey: string): Promise<NodeRecord | undefined> {
    return this.nodeRowOrUndefined(
      this.db.prepare("SELECT * FROM nodes WHERE public_key = ?").get(publicKey),
    );
  }

  async listNodes(): Promise<NodeRecord[]> {
    return (this.db.prepare("SELECT * FROM nodes ORDER BY name").all() as Row[]).map(toNode);
  }

  async registerNode(name: string, facts: NodeFacts, at: number): Promise<void> {
    const result = this.db
      .prepare(`UPDATE nodes SET arch = ?, board = ?, cpus = ?, agent_version = ?, partitions = ?,
        isolated_cores = ?, registered_at = ?, last_seen = ? WHERE name = ?`)
      .run(
        facts.arch,
        facts.board,
        facts.cpus,
        facts.agentVersion,
        facts.partitions,
        JSON.stringify(facts.isolatedCores),
        at,
        at,
        name,
      );
    if (result.changes === 0) throw new NotFoundError(`node '${name}' does not exist`);
  }

  async touchNodes(seen: ReadonlyMap<string, number>): Promise<void> {
    const update = this.db.prepare(
      "UPDATE nodes SET last_seen = max(coalesce(last_seen, 0), ?) WHERE name = ?",
    );
    this.db.transaction(() => {
      for (const [name, at] of seen) update.run(at, name);
    })();
  }

  async supply(node: string, software: string, at: number): Promise<void> {
    this.changing((changed) =>
      this.db.transaction(() => {
        this.nodeRow(node);
        const added = this.db
          .prepare("INSERT OR IGNORE INTO software (node, url, supplied_at) VALUES (?, ?, ?)")
          .run(node, software, at);
        if (added.changes > 0) changed.add(node);
      })(),
    );
  }

  async listSoftware(node: string): Promise<string[]> {
    this.nodeRow(node);
    return (
      this.db.prepare("SELECT url FROM software WHERE node = ? ORDER BY url").all(node) as Row[]
    ).map((r) => String(r.url));
  }

  async requestInstance(
    request: InstanceRequest,
    place: Placer,
    at: number,
    options: { wait?: boolean } = {},
  ): Promise<InstanceRecord> {
    return this.changing((changed) =>
      this.db
        .transaction(() => {
          const existing = this.instanceRow(request.name);
          if (existing) {
            if (existing.software !== request.software) {
              // A switch: the node installs the new release beside the old one and moves
              // the instance to it in the same partition, its data kept.
              const node = readCapacity(this.db).find((n) => n.name === existing.node);
              if (!node?.software.includes(request.software))
                throw new ConflictError(
                  `instance '${request.name}' runs ${existing.software}; to switch it to ${request.software}, supply that to node '${existing.node}' first`,
                );
            }
            if (request.node && request.node !== existing.node) {
              throw new ConflictError(
                `instance '${request.name}' already runs on node '${existing.node}'`,
              );
            }
            if (request.cores !== existing.cores.length) {
              throw new ConflictError(
                `instance '${request.name}' already holds ${existing.cores.length} cores; destroy it to change that`,
              );
            }
            if (existing.requestedState === "destroyed") {
              throw new ConflictError(`instance '${request.name}' is being destroyed`);
            }
            // Another release may mark other keys: masked again until the node says which.
            const reported =
              existing.software === request.software ? existing.secrets.reported : null;
            this.db
              .prepare(`UPDATE instances SET software = ?, parameters = ?, requested_state = 'started',
              secret_keys = ?, reported_secrets = ?, updated_at = ? WHERE name = ?`)
              .run(
                request.software,
                JSON.stringify(request.parameters),
                JSON.stringify(addSecretMarks(existing.secrets.requested, request.secrets)),
                reported ? JSON.stringify(reported) : null,
                at,
                request.name,
              );
            if (existing.node !== null) changed.add(existing.node);
            return this.instanceRow(request.name) as InstanceRecord;
          }
          if (request.node) this.nodeRow(request.node);
          const waiting = this.waitingRow(request.name);
          const secrets = addSecretMarks(waiting?.secrets.requested ?? [], request.secrets);
          try {
            changed.add(this.place({ ...request, secrets }, place, waiting?.createdAt ?? at, at));
          } catch (err) {
            if (!hasCode(err, "E_MASTER_NO_CAPACITY") || !(options.wait || waiting)) throw err;
            this.db
              .prepare(`INSERT INTO waiting_requests
              (name, software, parameters, secret_keys, node, cores, reason, created_at, updated_at)
              VALUES (@name, @software, @parameters, @secrets, @node, @cores, @reason, @at, @at)
              ON CONFLICT (name) DO UPDATE SET software = @software, parameters = @parameters,
                secret_keys = @secrets, node = @node, cores = @cores, reason = @reason,
                updated_at = @at`)
              .run({
                name: request.name,
                software: request.software,
                parameters: JSON.stringify(request.parameters),
                secrets: JSON.stringify(secrets),
                node: request.node ?? null,
                cores: request.cores,
                reason: err.message,
                at,
              });
            return this.waitingRow(request.name) as InstanceRecord;
          }
          return this.instanceRow(request.name) as InstanceRecord;
        })
        .immediate(),
    );
  }

  async placeWaiting(place: Placer, at: number): Promise<string[]> {
    return this.changing((changed) =>
      this.db
        .transaction(() => {
          const placed: string[] = [];
          const rows = this.db
            .prepare("SELECT * FROM waiting_requests ORDER BY created_at, name")
            .all() as Row[];
          for (const row of rows) {
            const w = toWaiting(row);
            const request = requestOfWaiting(w, Number(row.cores));
            try {
              changed.add(this.place(request, place, w.createdAt, at));
              placed.push(w.name);
            } catch (err) {
              if (!hasCode(err, "E_MASTER_NO_CAPACITY")) throw err;
              this.db
                .prepare("UPDATE waiting_requests SET reason = ? WHERE name = ? AND reason <> ?")
                .run(err.message, w.name, err.message);
            }
          }
          return placed;
        })
        .immediate(),
    );
  }

  /**
   * Places `request` (throws NoCapacityError if no node can take it) and forgets its wait;
   * returns the node it was placed on.
   */
  private place(request: InstanceRequest, place: Placer, createdAt: number, at: number): string {
    const placement = place(request, readCapacity(this.db));
    this.db
      .prepare(`INSERT INTO instances (name, software, parameters, secret_keys, node, partition,
        cores, requested_state, status, parent, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, 'started', 'pending', ?, ?, ?)`)
      .run(
        request.name,
        request.software,
        JSON.stringify(request.parameters),
        JSON.stringify(addSecretMarks([], request.secrets)),
        placement.node,
        placement.partition,
        JSON.stringify(placement.cores),
        request.parent ?? null,
        createdAt,
        at,
      );
    this.db.prepare("DELETE FROM waiting_requests WHERE name = ?").run(request.name);
    return placement.node;
  }

  async getInstance(name: string): Promise<InstanceRecord | undefined> {
    return this.instanceRow(name) ?? this.waitingRow(name);
  }

  async listInstances(filter: { node?: string; parent?: string } = {}): Promise<InstanceRecord[]> {
    const rows = this.db
      .prepare(`SELECT * FROM instances WHERE (@node IS NULL OR node = @node)
        AND (@parent IS NULL OR parent = @parent) ORDER BY name`)
      .all({ node: filter.node ?? null, parent: filter.parent ?? null });
    const placed = (rows as Row[]).map(toInstance);
    // Waiting requests have no node or parent yet: only the unfiltered list shows them.
    if (filter.node !== undefined || filter.parent !== undefined) return placed;
    const waiting = (this.db.prepare("SELECT * FROM waiting_requests").all() as Row[]).map(
      toWaiting,
    );
    return [...placed, ...waiting].sort((a, b) => a.name.localeCompare(b.name));
  }

  async setRequestedState(
    name: string,
    state: RequestedState,
    at: number,
  ): Promise<InstanceRecord> {
    return this.changing((changed) =>
      this.db
        .transaction(() => {
          const waiting = this.waitingRow(name);
          if (waiting) {
            if (state !== "destroyed")
              throw new ConflictError(
                `instance '${name}' is waiting for a place (${waiting.promises[0]?.message}); destroy it or let it be placed`,
              );
            this.db.prepare("DELETE FROM waiting_requests WHERE name = ?").run(name);
            return { ...waiting, requestedState: "destroyed" as const, updatedAt: at };
          }
          const result = this.db
            .prepare("UPDATE instances SET requested_state = ?, updated_at = ? WHERE name = ?")
            .run(state, at, name);
          if (result.changes === 0) throw new NotFoundError(`instance '${name}' does not exist`);
          if (state === "destroyed") {
            const descendants = this.db
              .prepare(`WITH RECURSIVE descendants(name) AS (
                SELECT name FROM instances WHERE parent = @name
                UNION SELECT i.name FROM instances i JOIN descendants d ON i.parent = d.name)
              UPDATE instances SET requested_state = 'destroyed', updated_at = @at
              WHERE name IN descendants RETURNING node`)
              .all({ name, at }) as Row[];
            for (const d of descendants) changed.add(String(d.node));
          }
          const instance = this.instanceRow(name) as PlacedInstance;
          changed.add(instance.node);
          return instance;
        })
        .immediate(),
    );
  }

  async applyReport(node: string, reports: InstanceReport[], at: number): Promise<string[]> {
    const update = this.db.prepare(`UPDATE instances SET status = @status, promises = @promises,
      connection = @connection, reported_secrets = CASE WHEN @secretsOf = software THEN @secrets ELSE reported_secrets END,
      limits = COALESCE(@limits, limits), reported_at = @at, updated_at = @at WHERE name = @name AND node = @node`);
    const remove = this.db.prepare(
      "DELETE FROM instances WHERE name = ? AND node = ? AND requested_state = 'destroyed'",
    );
    return this.db
      .transaction(() => {
        const ignored: string[] = [];
        for (const r of reports) {
          if (r.status === "destroyed" && remove.run(r.name, node).changes === 1) continue;
          // Secret keys read from another release than the instance's (a report sent
          // before a switch reached the node) are not its keys: ignored.
          const changed = update.run({
            status: r.status,
            promises: JSON.stringify(r.promises),
            connection: JSON.stringify(r.connection),
            secretsOf: r.secrets?.software ?? null,
            secrets: r.secrets ? JSON.stringify(r.secrets) : null,
            limits: r.limits ? JSON.stringify(r.limits) : null,
            at,
            name: r.name,
            node,
          }).changes;
          if (changed === 0) ignored.push(r.name);
        }
        return ignored;
      })
      .immediate();
  }

  async addUsage(node: string, usage: UsageReport[], at: number): Promise<string[]> {
    const insert = this.db.prepare(`INSERT OR IGNORE INTO usage
      (node, instance, period_from, period_to, cpu_seconds, memory_peak_bytes, received_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)`);
    const owns = this.db.prepare("SELECT 1 FROM instances WHERE name = ? AND node = ?");
    return this.db.transaction(() => {
      const ignored: string[] = [];
      for (const u of usage) {
        if (owns.get(u.instance, node) === undefined) {
          ignored.push(u.instance);
          continue;
        }
        insert.run(node, u.instance, u.from, u.to, u.cpuSeconds, u.memoryPeakBytes, at);
      }
      return ignored;
    })();
  }

  async listUsage(instance: string, limit = 100): Promise<StoredUsage[]> {
    const rows = this.db
      .prepare("SELECT * FROM usage WHERE instance = ? ORDER BY period_to DESC LIMIT ?")
      .all(instance, limit) as Row[];
    return rows.map(toUsage);
  }

  async ingestChunks(chunks: StoredChunk[]): Promise<IngestResult[]> {
    return this.writing(() => this.writer.ingest(chunks));
  }

  async addSchema(fingerprint: Uint8Array, schema: string, at: number): Promise<SchemaResult> {
    compileSchema(fingerprint, schema);
    return this.writing(() => {
      const inserted = this.db
        .prepare(
          "INSERT INTO schemas (fingerprint, json, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .run(Buffer.from(fingerprint), schema, at).changes;
      return {
        duplicate: inserted === 0,
        decodedChunks: this.writer.decodeAwaiting(fingerprint, at),
      };
    });
  }

  async decodeFailures(query: DecodeFailureQuery = {}): Promise<DecodeFailure[]> {
    return selectDecodeFailures(this.db, query);
  }

  async readingCounts(): Promise<ReadingCounts[]> {
    return selectReadingCounts(this.db);
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

  /** A write transaction of the readings writer, which forgets what a rollback undid. */
  private writing<T>(work: () => T): T {
    try {
      const result = this.db.transaction(work).immediate();
      this.writer.committed();
      return result;
    } catch (err) {
      this.writer.rolledBack();
      throw err;
    }
  }

  async claimOutbox(limit: number, leaseMs: number): Promise<OutboxMessage[]> {
    return this.outbox.claim(limit, leaseMs);
  }

  async settleOutbox(published: readonly number[], retry: readonly number[]): Promise<void> {
    this.outbox.settle(published, retry);
  }

  async outboxState(): Promise<OutboxState> {
    return this.outbox.state();
  }

  async recordLosses(losses: StoredLoss[]): Promise<IngestResult[]> {
    return this.db
      .transaction(() => losses.map((l) => ({ duplicate: this.insertLoss.run(l).changes === 0 })))
      .immediate();
  }

  async queryChunks(query: TelemetryQuery): Promise<StoredChunk[]> {
    return selectChunks(this.db, query);
  }

  async queryLosses(query: TelemetryQuery): Promise<StoredLoss[]> {
    return selectLosses(this.db, query);
  }

  onNodeChanged(listener: NodeChangeListener): () => void {
    return this.changes.subscribe(listener);
  }

  async ping(): Promise<void> {
    this.db.prepare("SELECT 1").get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /**
   * Runs `work`, a transaction (committed when it returns) that adds the nodes whose
   * desired state it changed, then tells the listeners of each. better-sqlite3 is
   * synchronous: nothing else runs in between.
   */
  private changing<T>(work: (changed: Set<string>) => T): T {
    const changed = new Set<string>();
    const result = work(changed);
    this.changes.emitNodes(changed, Date.now());
    return result;
  }

  private nodeRow(name: string): NodeRecord {
    const node = this.nodeRowOrUndefined(
      this.db.prepare("SELECT * FROM nodes WHERE name = ?").get(name),
    );
    if (!node) throw new NotFoundError(`node '${name}' does not exist`);
    return node;
  }

  private nodeRowOrUndefined(row: unknown): NodeRecord | undefined {
    return row ? toNode(row as Row) : undefined;
  }

  private waitingRow(name: string): InstanceRecord | undefined {
    const row = this.db.prepare("SELECT * FROM waiting_requests WHERE name = ?").get(name) as
      | Row
      | undefined;
    return row ? toWaiting(row) : undefined;
  }

  private instanceRow(name: string): InstanceRecord | undefined {
    const row = this.db.prepare("SELECT * FROM instances WHERE name = ?").get(name) as
      | Row
      | undefined;
    return row ? toInstance(row) : undefined;
  }
}
