import { Agent, request } from "node:http";
import { Decoder, Encoder } from "cbor-x";
import type { LossEvent, OutboundChunk, Sink, StreamMetrics } from "../../buffer/index.js";
import { LocalApiError } from "../errors.js";

// Plain CBOR both ways, as the agent's local API expects and answers.
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/** Replies are `{ chunkId }`, `{ lossId }` or `{ error }`: anything longer is cut. */
const MAX_REPLY = 64 * 1024;

/**
 * buffer's `Sink` for a process inside a partition: each chunk is POSTed as CBOR to the
 * agent's local API (`/v1/telemetry`, loss events to `/v1/loss`) over the unix socket
 * the agent hands every process as `OUTPOST_API`. The agent relays it to the master
 * under the node's key and answers 200 only after the master committed it, so `send`
 * resolves exactly when the Sink contract says. Any other answer rejects with
 * LocalApiError (the forwarder retries); an aborted `signal` abandons the request.
 */
export class LocalApiSink implements Sink {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  private closed = false;

  constructor(readonly socketPath: string) {}

  async send(chunk: OutboundChunk, signal: AbortSignal): Promise<{ chunkId: number }> {
    const path = "/v1/telemetry";
    const reply = await this.post(
      path,
      {
        chunkId: chunk.chunkId,
        stream: chunk.stream,
        schema: chunk.schema,
        createdAt: chunk.createdAt,
        firstSeq: chunk.firstSeq,
        lastSeq: chunk.lastSeq,
        records: chunk.records,
        compression: chunk.compression,
        body: chunk.body,
      },
      signal,
    );
    if (typeof reply.chunkId !== "number")
      throw new LocalApiError(path, 200, "reply carries no chunkId");
    return { chunkId: reply.chunkId };
  }

  async sendLoss(loss: LossEvent, signal: AbortSignal): Promise<{ lossId: number }> {
    const path = "/v1/loss";
    const reply = await this.post(
      path,
      {
        id: loss.id,
        stream: loss.stream,
        reason: loss.reason,
        chunkId: loss.chunkId,
        fromSeq: loss.fromSeq,
        toSeq: loss.toSeq,
        records: loss.records,
        at: loss.at,
      },
      signal,
    );
    if (typeof reply.lossId !== "number")
      throw new LocalApiError(path, 200, "reply carries no lossId");
    return { lossId: reply.lossId };
  }

  /**
   * Tells the agent what the buffer has not delivered yet (`POST /v1/buffer`); the agent
   * reports the last figure to the master with the instance. Answered at once, link or
   * not, so a growing backlog is known on the node while the master is unreachable.
   */
  async reportBacklog(metrics: StreamMetrics, signal: AbortSignal): Promise<void> {
    await this.post(
      "/v1/buffer",
      {
        records: metrics.backlogRecords,
        bytes: metrics.backlogBytes,
        oldestAgeMs: Math.round(metrics.oldestUndeliveredAgeMs),
      },
      signal,
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    this.agent.destroy();
  }

  private post(
    path: string,
    body: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    if (this.closed) return Promise.reject(new LocalApiError(path, 0, "the sink is closed"));
    const bytes = encoder.encode(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          path,
          method: "POST",
          agent: this.agent,
          signal,
          headers: { "content-type": "application/cbor", "content-length": bytes.length },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (c: Buffer) => {
            size += c.length;
            if (size <= MAX_REPLY) chunks.push(c);
          });
          res.once("error", reject);
          res.once("close", () => {
            if (!res.complete)
              reject(new LocalApiError(path, status, "the agent closed the connection"));
          });
          res.once("end", () => {
            const text = Buffer.concat(chunks);
            if (status !== 200) {
              reject(new LocalApiError(path, status, reasonOf(text)));
              return;
            }
            const reply = decodeReply(text);
            if (reply) resolve(reply);
            else reject(new LocalApiError(path, status, "reply is not a CBOR map"));
          });
        },
      );
      req.once("error", reject);
      req.end(bytes);
    });
  }
}

function decodeReply(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = decoder.decode(bytes);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The agent's `{ error }` JSON, else the start of whatever came. */
function reasonOf(bytes: Buffer): string {
  const text = bytes.toString("utf8");
  try {
    const { error } = JSON.parse(text) as { error?: unknown };
    if (typeof error === "string") return error;
  } catch {
    // not the API's JSON: fall through
  }
  return text.slice(0, 200).trim() || "(no reason given)";
}
