import type Database from "better-sqlite3";
import { outboxMessageOf } from "../outbox-row.js";
import type { OutboxMessage, OutboxState } from "../store.js";
import type { Row } from "./rows.js";

/**
 * The telemetry outbox's reads and deletes (the writer adds its rows). One master uses a
 * SQLite file, so one publisher claims; the lease still holds the store's contract.
 */
export class SqliteOutbox {
  private readonly select: Database.Statement;
  private readonly lease: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly release: Database.Statement;
  private readonly count: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.select = db.prepare(`SELECT id, node, stream, chunk_id, part, parts, readings, payload
      FROM telemetry_outbox WHERE leased_until IS NULL OR leased_until <= ?
      ORDER BY id LIMIT ?`);
    this.lease = db.prepare("UPDATE telemetry_outbox SET leased_until = ? WHERE id = ?");
    this.remove = db.prepare("DELETE FROM telemetry_outbox WHERE id = ?");
    this.release = db.prepare("UPDATE telemetry_outbox SET leased_until = NULL WHERE id = ?");
    this.count = db.prepare(
      "SELECT count(*) AS messages, min(created_at) AS oldest FROM telemetry_outbox",
    );
  }

  claim(limit: number, leaseMs: number): OutboxMessage[] {
    const now = Date.now();
    const rows = (this.select.all(now, limit) as Row[]).map(outboxMessageOf);
    // An empty outbox (the common look) writes nothing; better-sqlite3 is synchronous, so
    // nothing of this process claims between the read and the leases.
    if (rows.length > 0)
      this.db.transaction(() => {
        for (const m of rows) this.lease.run(now + leaseMs, m.id);
      })();
    return rows;
  }

  settle(published: readonly number[], retry: readonly number[]): void {
    this.db.transaction(() => {
      for (const id of published) this.remove.run(id);
      for (const id of retry) this.release.run(id);
    })();
  }

  state(): OutboxState {
    const row = this.count.get() as Row;
    return {
      messages: Number(row.messages),
      oldestAt: row.oldest === null ? null : Number(row.oldest),
    };
  }
}
