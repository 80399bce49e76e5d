import type { Logger } from "../common/index.js";
import type { TelemetryRecord } from "./record.js";

/** What the running-input wrapper hands an input when it starts it. */
export interface InputContext {
  /** Push records (inputs that are notified by their device, such as subscriptions). */
  emit(records: TelemetryRecord[]): void;
  /**
   * The input lost its device (connection dropped, session gone, server hung): the
   * wrapper marks its tags bad, stops it and starts it again after a backoff. `since`:
   * when the device was last heard, if the loss is noticed only later (a hang is).
   */
  fail(err: Error, since?: number): void;
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
  /**
   * A cheap check that the device answers (OPC-UA: a Hello), for inputs whose `start` is
   * costly: after a failure the wrapper probes often and starts only once it passes.
   */
  probe?(): Promise<void>;
  /** One read of every tag; absent on inputs whose device pushes values. */
  gather?(): Promise<GatherResult>;
  stop(): Promise<void>;
}

/** What an output did with a write besides storing it as given. */
export interface WriteResult {
  /** Records too large to store, each replaced by a `too_large` record of its tag. */
  tooLarge: number;
}

/** Where records go: the buffer in `collector run`, stdout in `collector read`. */
export interface RecordOutput {
  // biome-ignore lint/suspicious/noConfusingVoidType: an output that stores every record as given returns nothing
  write(records: TelemetryRecord[]): Promise<WriteResult | void>;
}
