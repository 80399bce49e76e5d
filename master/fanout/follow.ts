import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  JetStreamApiError,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { InvalidRequestError, NatsUnavailableError } from "../errors.js";
import type { Reading } from "../readings/reading.js";
import { connectNats, reasonOf } from "./jetstream-link.js";
import type { NatsOptions } from "./nats-options.js";
import { nodeSubjects, TELEMETRY_STREAM } from "./subjects.js";
import { readTelemetryMessage } from "./telemetry-message.js";

const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

export interface FollowOptions extends NatsOptions {
  /** Only this node's readings (the consumer's subject filter). */
  node?: string;
  /**
   * A durable consumer of this name: made on first use (from the messages published after
   * it), it resumes after the last message acked, across runs. Without it an ordered
   * consumer follows the messages published from now on.
   */
  durable?: string;
  /** Ends the follow. */
  signal: AbortSignal;
  /** A message of the stream that is not a telemetry message: skipped (not delivered again). */
  onUnreadable(subject: string, seq: number, reason: string): void;
}

/** A message's readings; `ack()` once they are handled (a durable consumer then moves on). */
export interface FollowedMessage {
  readings: Reading[];
  ack(): void;
}

/**
 * The readings of the telemetry stream as they are published, one message's at a time,
 * until `signal` aborts. NatsUnavailableError when the servers cannot be used or the
 * stream does not exist; E_MASTER_INVALID when the durable consumer exists for other
 * subjects.
 */
export async function* followTelemetry(options: FollowOptions): AsyncGenerator<FollowedMessage> {
  const nc = await connectNats(options, "outpost-telemetry-follow");
  let following: Following | undefined;
  const stop = (): void => void following?.messages.stop();
  options.signal.addEventListener("abort", stop);
  try {
    following = await consume(nc, options);
    if (options.signal.aborted) return;
    for await (const m of following.messages) {
      let readings: Reading[];
      try {
        readings = readTelemetryMessage(m.data).readings;
      } catch (err) {
        options.onUnreadable(m.subject, m.seq, reasonOf(err));
        // A durable consumer is told never to deliver it again (an ordered one acks nothing).
        if (options.durable !== undefined) m.term();
        continue;
      }
      yield { readings, ack: () => ack(m, options.durable) };
    }
  } finally {
    options.signal.removeEventListener("abort", stop);
    await following?.done().catch(() => undefined);
    await nc.flush().catch(() => undefined);
    await nc.close();
  }
}

/** The consumer's messages, and what to do once they are no longer wanted. */
interface Following {
  messages: ConsumerMessages;
  done(): Promise<unknown>;
}

function ack(m: JsMsg, durable: string | undefined): void {
  if (durable !== undefined) m.ack();
}

async function consume(nc: NatsConnection, options: FollowOptions): Promise<Following> {
  const js = jetstream(nc);
  const filter = nodeSubjects(options.node);
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.info(TELEMETRY_STREAM);
    if (options.durable === undefined) {
      const ordered = await js.consumers.get(TELEMETRY_STREAM, {
        filter_subjects: filter,
        deliver_policy: DeliverPolicy.New,
      });
      // Gone with the follow, rather than left on the server until it times out (5 min).
      return { messages: await ordered.consume(), done: () => ordered.delete() };
    }
    const existing = await jsm.consumers.info(TELEMETRY_STREAM, options.durable).catch((err) => {
      if (err instanceof JetStreamApiError && err.code === CONSUMER_NOT_FOUND) return undefined;
      throw err;
    });
    if (existing && (existing.config.filter_subject ?? "") !== filter)
      throw new InvalidRequestError(
        `--durable: consumer '${options.durable}' follows '${existing.config.filter_subject ?? ""}', not '${filter}': name another one, or delete it (nats consumer rm ${TELEMETRY_STREAM} ${options.durable})`,
      );
    if (!existing)
      await jsm.consumers.add(TELEMETRY_STREAM, {
        durable_name: options.durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        filter_subject: filter,
      });
    const durable = await js.consumers.get(TELEMETRY_STREAM, options.durable);
    return { messages: await durable.consume(), done: async () => undefined };
  } catch (err) {
    if (err instanceof InvalidRequestError) throw err;
    if (err instanceof JetStreamApiError && err.code === STREAM_NOT_FOUND)
      throw new NatsUnavailableError(
        options.servers,
        `no stream ${TELEMETRY_STREAM}: no master with --nats has published there yet`,
      );
    throw new NatsUnavailableError(options.servers, reasonOf(err));
  }
}
