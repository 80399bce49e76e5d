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

export const DEFAULT_LIMITS: LinkLimits = { maxMessageBytes: 16 * 1024 * 1024 };
export const DEFAULT_HEARTBEAT: HeartbeatOptions = { intervalMs: 5_000, timeoutMs: 15_000 };

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
