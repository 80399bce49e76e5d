import { type Logger, silentLogger } from "../common/index.js";
import { RemoteError } from "./errors.js";
import type { Chunk, Loss, SchemaAnnouncement } from "./messages.js";
import type { NodeLink } from "./node-link.js";

/** The master's error code for a schema it will never take (master/errors.ts). */
export const SCHEMA_REFUSED = "E_MASTER_SCHEMA";

/** How many acks the master sent for chunks it already held: each one is a resend. */
export interface TelemetrySinkStats {
  acked: number;
  duplicates: number;
  lossesAcked: number;
  schemasAcked: number;
}

/**
 * The buffer forwarder's sink for the master: each sealed chunk goes out as one
 * `telemetry` request over the CURVE link and resolves only on the master's ack, which
 * the master sends after the chunk is committed (again for a chunk it already had, so a
 * resend after a lost ack resolves too). Loss events go the same way as `loss` requests,
 * record schemas as `schema` requests.
 *
 * It satisfies `buffer`'s `Sink` structurally: protocol imports nothing of ours and buffer
 * may import protocol's types only, so the class lives here and the node agent, which
 * may import both, plugs one into the other. Give it a link of its own: a forwarder
 * draining a backlog then never queues ahead of the agent's sync and report requests.
 * `close()` closes that link.
 */
export class TelemetrySink {
  readonly stats: TelemetrySinkStats = {
    acked: 0,
    duplicates: 0,
    lossesAcked: 0,
    schemasAcked: 0,
  };
  private readonly logger: Logger;

  constructor(
    private readonly link: NodeLink,
    logger?: Logger,
  ) {
    this.logger = logger ?? silentLogger;
  }

  /** `duplicate`: the master held this chunk id already (a resend); Sink callers ignore it. */
  async send(chunk: Chunk, signal: AbortSignal): Promise<{ chunkId: number; duplicate: boolean }> {
    const ack = await this.link.send(chunk, signal);
    this.stats.acked++;
    if (ack.duplicate) {
      this.stats.duplicates++;
      this.logger.debug({ chunkId: ack.chunkId, stream: chunk.stream }, "chunk.acked_again");
    }
    return { chunkId: ack.chunkId, duplicate: ack.duplicate };
  }

  async sendLoss(loss: Loss, signal: AbortSignal): Promise<{ lossId: number }> {
    const ack = await this.link.sendLoss(loss, signal);
    this.stats.lossesAcked++;
    return ack;
  }

  /**
   * A record schema, acked once the master committed it (again if it held it already);
   * `refused` when the master refused it for good (E_MASTER_SCHEMA: too large, too deep,
   * not the fingerprint's), which a resend cannot change.
   */
  async sendSchema(
    announcement: SchemaAnnouncement,
    signal: AbortSignal,
  ): Promise<{ refused?: string }> {
    try {
      await this.link.sendSchema(announcement, signal);
    } catch (err) {
      if (err instanceof RemoteError && err.remoteCode === SCHEMA_REFUSED)
        return { refused: err.message };
      throw err;
    }
    this.stats.schemasAcked++;
    return {};
  }

  close(): Promise<void> {
    return this.link.close();
  }
}
