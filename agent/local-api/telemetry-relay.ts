import { hasCode } from "../../common/errors.js";
import type { Logger } from "../../common/index.js";
import type { Chunk, Loss, SchemaAnnouncement } from "../../protocol/index.js";
import { RelayRefusedError, RelayUnavailableError } from "./errors.js";
import { relayedId } from "./telemetry-body.js";

/**
 * Where relayed telemetry goes: protocol's `TelemetrySink` on a link of the agent's own
 * (not the sync/report link), which resolves only once the master committed.
 */
export interface TelemetryUplink {
  /** `duplicate`: the master held the id already. */
  send(chunk: Chunk, signal: AbortSignal): Promise<{ chunkId: number; duplicate: boolean }>;
  sendLoss(loss: Loss, signal: AbortSignal): Promise<{ lossId: number }>;
  /** `refused`: the master will never take this schema. */
  sendSchema(announcement: SchemaAnnouncement, signal: AbortSignal): Promise<{ refused?: string }>;
}

/**
 * Relays what a partition's buffer forwards through its local API to the master, under
 * the node's key (partitions never hold it). Ids are namespaced per partition and its
 * current epoch (`relayedId`, `epochOf`); streams, sequence numbers and bodies pass
 * unchanged (the body is never decoded). A relay resolves only after the master
 * acknowledged, i.e. committed; it has no retries of its own (the partition's forwarder
 * retries). It rejects with `relayError`'s errors. Record schemas pass the same way.
 */
export class TelemetryRelay {
  private readonly logger: Logger;

  constructor(
    private readonly uplink: TelemetryUplink,
    logger: Logger,
    /** The partition's epoch: how many times it was reset for a new instance (journaled). */
    private readonly epochOf: (partition: number) => number,
  ) {
    this.logger = logger.child({ component: "telemetry-relay" });
  }

  async relayChunk(partition: number, chunk: Chunk, signal: AbortSignal): Promise<void> {
    const epoch = this.epochOf(partition);
    const chunkId = relayedId(partition, epoch, chunk.chunkId);
    const where = {
      partition,
      epoch,
      stream: chunk.stream,
      chunkId: chunk.chunkId,
      relayedId: chunkId,
    };
    let duplicate: boolean;
    try {
      const ack = await this.uplink.send({ ...chunk, chunkId }, signal);
      if (ack.chunkId !== chunkId)
        throw new Error(`master acknowledged chunk ${ack.chunkId} for chunk ${chunkId}`);
      duplicate = ack.duplicate;
    } catch (err) {
      throw this.failed(err, signal, where);
    }
    if (duplicate) {
      // A resend after a lost ack, or a second buffer in one instance reusing its ids:
      // the master kept what it had.
      this.logger.info({ ...where, records: chunk.records }, "telemetry.acked_again");
    } else {
      this.logger.debug({ ...where, records: chunk.records }, "telemetry.relayed");
    }
  }

  /** The loss's own id and the chunk id it names are both namespaced. */
  async relayLoss(partition: number, loss: Loss, signal: AbortSignal): Promise<void> {
    const epoch = this.epochOf(partition);
    const id = relayedId(partition, epoch, loss.id);
    const where = { partition, epoch, stream: loss.stream, lossId: loss.id, relayedId: id };
    try {
      const ack = await this.uplink.sendLoss(
        { ...loss, id, chunkId: relayedId(partition, epoch, loss.chunkId) },
        signal,
      );
      if (ack.lossId !== id) throw new Error(`master acknowledged loss ${ack.lossId} for ${id}`);
    } catch (err) {
      throw this.failed(err, signal, where);
    }
    this.logger.debug({ ...where, records: loss.records }, "telemetry.loss_relayed");
  }

  /**
   * A record schema, passed through as it is: fingerprints name their schema's content,
   * so they need no namespace (the master checks each against its text). `refused` when
   * the master refused it for good.
   */
  async relaySchema(
    partition: number,
    announcement: SchemaAnnouncement,
    signal: AbortSignal,
  ): Promise<{ refused?: string }> {
    const where = {
      partition,
      fingerprint: Buffer.from(announcement.fingerprint).toString("hex"),
    };
    let result: { refused?: string };
    try {
      result = await this.uplink.sendSchema(announcement, signal);
    } catch (err) {
      throw this.failed(err, signal, where);
    }
    if (result.refused !== undefined)
      this.logger.warn({ ...where, reason: result.refused }, "telemetry.schema_refused");
    else this.logger.debug(where, "telemetry.schema_relayed");
    return result;
  }

  private failed(err: unknown, signal: AbortSignal, where: Record<string, unknown>): Error {
    const e = err as { code?: string; message?: string };
    if (signal.aborted) {
      // The partition hung up (its forwarder's ack timeout, or it stopped): it resends.
      this.logger.debug(where, "telemetry.relay_abandoned");
    } else {
      this.logger.warn({ ...where, code: e.code, err: e.message }, "telemetry.relay_failed");
    }
    return relayError(err);
  }
}

/**
 * Pure: the error a failed relay is answered with, by the failure's code.
 * `E_AGENT_RELAY_UNAVAILABLE` (503): the master is not reachable now, or the agent is
 * stopping; try again. `E_AGENT_RELAY_REFUSED` (502): the master answered with an error.
 */
export function relayError(err: unknown): RelayUnavailableError | RelayRefusedError {
  const message = err instanceof Error ? err.message : String(err);
  if (hasCode(err, "E_PROTOCOL_TIMEOUT"))
    return new RelayUnavailableError(`master unreachable: ${message}`, { cause: err });
  if (hasCode(err, "E_PROTOCOL_CLOSED"))
    return new RelayUnavailableError("the agent is stopping", { cause: err });
  if (hasCode(err, "E_PROTOCOL_REMOTE")) return new RelayRefusedError(message, { cause: err });
  return new RelayRefusedError(`relay to the master failed: ${message}`, { cause: err });
}
