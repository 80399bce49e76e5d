/** Size and timing limits of a link; every frame is checked against them. */
export interface LinkLimits {
  /** Largest message (one frame) accepted, in bytes; ZeroMQ drops the peer above it. */
  maxMessageBytes: number;
}

export interface HeartbeatOptions {
  /** ZMTP PING interval, ms. */
  intervalMs: number;
  /** Link declared dead when no traffic arrives for this long, ms. */
  timeoutMs: number;
}

/** How a node's link moves between several masters. */
export interface FailoverOptions {
  /** A new connection without a completed CURVE handshake after this long is given up, ms. */
  connectTimeoutMs: number;
  /**
   * The wait before each move, drawn in [0, ceiling) (full jitter); the ceiling doubles
   * per move that found no serving master, from `initialMs` up to `maxMs`.
   */
  backoff: { initialMs: number; maxMs: number };
}

export const DEFAULT_LIMITS: LinkLimits = { maxMessageBytes: 16 * 1024 * 1024 };
export const DEFAULT_HEARTBEAT: HeartbeatOptions = { intervalMs: 5_000, timeoutMs: 15_000 };

/**
 * A node's heartbeats when it knows several masters. A master frozen (SIGSTOP, a hung VM)
 * sends no reset: only the missing PONGs show it is gone, at most `intervalMs +
 * timeoutMs` after it stopped (8 s). With the first move's wait (under 1 s) and a
 * handshake, a node is on another master well within 15 s. PINGs are answered by
 * ZeroMQ's I/O thread, not the master's event loop, so a master merely busy is not taken
 * for gone; 6 s also leaves room for a slow cellular round trip. The cost is a PING and
 * its PONG per node every 2 s, a few bytes each: 5,000 of each a second at a master
 * holding 10,000 nodes. A fleet that can wait longer sets longer ones: the agent's
 * periodic syncs find a frozen master by their own timeouts anyway (see NodeLink).
 */
export const FAILOVER_HEARTBEAT: HeartbeatOptions = { intervalMs: 2_000, timeoutMs: 6_000 };

/**
 * A fresh connection to a frozen master completes TCP (the kernel accepts for it) but
 * never its handshake: after the heartbeat timeout it is given up like a silent one.
 * Moves wait under 1 s at first, so a thousand nodes whose master died reach the others
 * spread over a second rather than all at once, and up to 30 s while no master serves, so an outage of every master is not a storm of dials.
 */
export const DEFAULT_FAILOVER: FailoverOptions = {
  connectTimeoutMs: FAILOVER_HEARTBEAT.timeoutMs,
  backoff: { initialMs: 1_000, maxMs: 30_000 },
};

/** ZeroMQ socket options for heartbeats and limits, shared by both ends. */
export function linkSocketOptions(limits: LinkLimits, heartbeat: HeartbeatOptions) {
  return {
    maxMessageSize: limits.maxMessageBytes,
    heartbeatInterval: heartbeat.intervalMs,
    heartbeatTimeout: heartbeat.timeoutMs,
    heartbeatTimeToLive: heartbeat.timeoutMs,
    linger: 0,
  };
}
