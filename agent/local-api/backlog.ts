import type { Backlog } from "../../protocol/index.js";

/** What one relay in flight carries. */
export interface Relaying {
  records: number;
  bytes: number;
  createdAt: number;
}

/** Records and bytes waiting, and when the oldest of them was created (ms since the epoch). */
interface Waiting {
  records: number;
  bytes: number;
  oldestAt: number | undefined;
}

/**
 * A partition's buffer backlog as the agent knows it: what its forwarder said, with its
 * last post, waits besides the posts it has in flight, plus what the agent is relaying
 * for it right now, plus what it failed to relay since (the forwarder queues that again).
 * Exact whenever the forwarder is idle (its last post said what waited behind it, and
 * nothing is in flight); between posts it lags by what the forwarder appended since.
 */
export class PartitionBacklog {
  private told: Waiting | undefined;
  private readonly relaying = new Set<Relaying>();

  /** A post's backlog (see buffer's `Sink`), measured at `now`. */
  tell(backlog: Backlog, now: number): void {
    this.told = {
      records: backlog.records,
      bytes: backlog.bytes,
      oldestAt: backlog.records > 0 ? now - backlog.oldestAgeMs : undefined,
    };
  }

  /** A relay started; call what it returns once it is answered, `delivered` or not. */
  start(relay: Relaying): (delivered: boolean) => void {
    this.relaying.add(relay);
    return (delivered) => {
      if (!this.relaying.delete(relay) || delivered || !this.told) return;
      // Not delivered: back in the forwarder's queue until its next post says otherwise.
      this.told = add(this.told, relay);
    };
  }

  /** Undefined until a post carried a backlog. */
  current(now: number): Backlog | undefined {
    if (!this.told) return undefined;
    let all = this.told;
    for (const r of this.relaying) all = add(all, r);
    return {
      records: all.records,
      bytes: all.bytes,
      oldestAgeMs: all.oldestAt === undefined ? 0 : Math.max(0, now - all.oldestAt),
    };
  }
}

function add(waiting: Waiting, relay: Relaying): Waiting {
  const oldestAt =
    relay.records === 0
      ? waiting.oldestAt
      : Math.min(waiting.oldestAt ?? relay.createdAt, relay.createdAt);
  return {
    records: waiting.records + relay.records,
    bytes: waiting.bytes + relay.bytes,
    oldestAt,
  };
}
