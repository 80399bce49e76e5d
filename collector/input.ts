import type { Logger } from "../common/index.js";
import type { TelemetryRecord } from "./record.js";

/** What the running-input wrapper hands an input when it starts it. */
export interface InputContext {
  /** Push records (inputs that are notified by their device, such as subscriptions). */
  emit(records: TelemetryRecord[]): void;
  /**
   * The input lost its device (connection dropped, session gone): the wrapper marks its
   * tags bad, stops it and starts it again after a backoff.
   */
  fail(err: Error): void;
  logger: Logger;
}

export interface GatherResult {
  records: TelemetryRecord[];
  /** Set when nothing could be read at all (silent unit, no connection): the wrapper backs off. */
  failure?: Error;
}

/**
 * The contract every input follows. The constructor validates its config and does no
 * I/O; `start` connects; `stop` releases everything. Scheduling, backoff, stats and
 * marking tags bad on failure belong to the RunningInput wrapper, never to an input.
 */
export interface Input {
  readonly device: string;
  readonly kind: "modbus" | "opcua";
  /** How often a polled input is gathered. */
  readonly intervalMs: number;
  readonly tags: readonly { name: string; unit?: string }[];
  start(ctx: InputContext): Promise<void>;
  /** One read of every tag; absent on inputs whose device pushes values. */
  gather?(): Promise<GatherResult>;
  stop(): Promise<void>;
}

/** Where records go: the buffer in `collector run`, stdout in `collector read`. */
export interface RecordOutput {
  write(records: TelemetryRecord[]): Promise<void>;
}
