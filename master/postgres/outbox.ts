import type postgres from "postgres";
import { outboxMessageOf } from "../outbox-row.js";
import type { OutboxMessage, OutboxState } from "../store.js";

/** The database's clock in ms: every master leases by the same clock. */
const NOW_MS = "(extract(epoch FROM now()) * 1000)::int8";

/**
 * The telemetry outbox's reads and deletes (the writer adds its rows). Several masters
 * share the table: a claim leases the oldest rows not leased (FOR UPDATE SKIP LOCKED, so
 * two claims at the same instant take disjoint rows and neither waits), and the lease,
 * not an open transaction, keeps them from other publishers while they are published.
 */
export class PgOutbox {
  constructor(private readonly sql: postgres.Sql) {}

  async claim(limit: number, leaseMs: number): Promise<OutboxMessage[]> {
    const rows = await this.sql.unsafe(
      `UPDATE telemetry_outbox SET leased_until = ${NOW_MS} + $1
      WHERE id IN (SELECT id FROM telemetry_outbox
        WHERE leased_until IS NULL OR leased_until <= ${NOW_MS}
        ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING id, node, stream, chunk_id, part, parts, readings, payload`,
      [leaseMs, limit],
    );
    return rows.map(outboxMessageOf).sort((a, b) => a.id - b.id);
  }

  async settle(published: readonly number[], retry: readonly number[]): Promise<void> {
    if (published.length === 0 && retry.length === 0) return;
    await this.sql.begin(async (tx) => {
      if (published.length > 0)
        await tx`DELETE FROM telemetry_outbox WHERE id = ANY(${published as number[]}::int8[])`;
      if (retry.length > 0)
        await tx`UPDATE telemetry_outbox SET leased_until = NULL
          WHERE id = ANY(${retry as number[]}::int8[])`;
    });
  }

  async state(): Promise<OutboxState> {
    const [row] = await this.sql`SELECT count(*) AS messages, min(created_at) AS oldest
      FROM telemetry_outbox`;
    return {
      messages: Number(row?.messages ?? 0),
      oldestAt: row?.oldest === null || row?.oldest === undefined ? null : Number(row.oldest),
    };
  }
}
