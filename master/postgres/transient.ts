import { setTimeout as sleep } from "node:timers/promises";
import { backoffDelay } from "../../common/backoff.js";

/**
 * deadlock_detected and serialization_failure: PostgreSQL undid the whole transaction
 * and says so that running it again is the remedy. Two masters ingesting the same
 * node's chunks around a failover can take the same rows in different orders.
 */
const TRANSIENT_CODES = new Set(["40P01", "40001"]);

/** Tries before the error is the caller's: a fourth deadlock in a row is not bad luck. */
export const WRITE_ATTEMPTS = 4;

const RETRY_BACKOFF = { initialMs: 20, maxMs: 200, jitter: "full" } as const;

export function isTransient(err: unknown): boolean {
  return TRANSIENT_CODES.has((err as { code?: unknown })?.code as string);
}

/**
 * Runs `transaction` again (after a jittered pause, so the two sides do not meet again
 * in step) while it fails with a transient error; `undo` runs after every failure.
 */
export async function retryTransient<T>(
  transaction: () => Promise<T>,
  undo: () => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (err) {
      undo();
      if (attempt >= WRITE_ATTEMPTS || !isTransient(err)) throw err;
      await sleep(backoffDelay(RETRY_BACKOFF, attempt));
    }
  }
}
