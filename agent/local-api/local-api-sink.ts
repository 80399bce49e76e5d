import { Agent, request } from "node:http";
import type { LossEvent, OutboundChunk, Sink } from "../../buffer/index.js";
import { type Backlog, LOSS_REQUIRED, type SchemaAnnouncement } from "../../protocol/index.js";
import { LocalApiError } from "../errors.js";
import { backlogQuery, chunkQuery } from "./telemetry-body.js";

/** Answers are `{ chunkId }`, `{ lossId }` or `{ error }`: anything longer is cut. */
const MAX_REPLY = 64 * 1024;

/**
 * buffer's `Sink` for a process inside a partition: each chunk is POSTed to the agent's
 * local API (`/v1/telemetry`: its fields as the query, its body as the request body as
 * it is; loss events as JSON to `/v1/loss`, record schemas as their text to `/v1/schema`)
 * over the unix socket the agent hands every
 * process as `OUTPOST_API`, each with what the forwarder says waits besides (the
 * buffer's backlog rides the telemetry posts). The agent relays it to the master under
 * the node's key and answers 200 only after the master committed it, so `send` resolves
 * exactly when the Sink contract says. Any other answer rejects with LocalApiError (the
 * forwarder retries); an aborted `signal` abandons the request.
 */
export class LocalApiSink implements Sink {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  private closed = false;

  constructor(readonly socketPath: string) {}

  async send(
    chunk: OutboundChunk,
    signal: AbortSignal,
    waiting?: Backlog,
  ): Promise<{ chunkId: number }> {
    const path = "/v1/telemetry";
    const reply = await this.post(
      `${path}?${chunkQuery(chunk, waiting)}`,
      "application/octet-stream",
      chunk.body,
      signal,
    );
    if (typeof reply.chunkId !== "number")
      throw new LocalApiError(path, 200, "answer carries no chunkId");
    return { chunkId: reply.chunkId };
  }

  async sendLoss(
    loss: LossEvent,
    signal: AbortSignal,
    waiting?: Backlog,
  ): Promise<{ lossId: number }> {
    const path = "/v1/loss";
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(backlogQuery(waiting))) query.set(k, String(v));
    const reply = await this.post(
      `${path}?${query}`,
      "application/json",
      // Its fields only: the agent refuses unknown ones.
      Buffer.from(JSON.stringify(Object.fromEntries(LOSS_REQUIRED.map((k) => [k, loss[k]])))),
      signal,
    );
    if (typeof reply.lossId !== "number")
      throw new LocalApiError(path, 200, "answer carries no lossId");
    return { lossId: reply.lossId };
  }

  /** `refused` when the master refused the schema for good (422 from the agent). */
  async sendSchema(
    announcement: SchemaAnnouncement,
    signal: AbortSignal,
  ): Promise<{ refused?: string }> {
    const path = "/v1/schema";
    const fingerprint = Buffer.from(announcement.fingerprint).toString("hex");
    try {
      await this.post(
        `${path}?fingerprint=${fingerprint}`,
        "application/json",
        Buffer.from(announcement.schema, "utf8"),
        signal,
      );
    } catch (err) {
      if (err instanceof LocalApiError && err.status === 422) return { refused: err.message };
      throw err;
    }
    return {};
  }

  async close(): Promise<void> {
    this.closed = true;
    this.agent.destroy();
  }

  private post(
    target: string,
    type: string,
    body: Uint8Array,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const path = target.split("?")[0] ?? target;
    if (this.closed) return Promise.reject(new LocalApiError(path, 0, "the sink is closed"));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          path: target,
          method: "POST",
          agent: this.agent,
          signal,
          headers: { "content-type": type, "content-length": body.length },
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
            const answer = parseAnswer(Buffer.concat(chunks));
            if (status !== 200) reject(new LocalApiError(path, status, reasonOf(answer)));
            else if (answer.json) resolve(answer.json);
            else reject(new LocalApiError(path, status, "answer is not a JSON object"));
          });
        },
      );
      req.once("error", reject);
      req.end(body);
    });
  }
}

function parseAnswer(bytes: Buffer): { json?: Record<string, unknown>; text: string } {
  const text = bytes.toString("utf8");
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value))
      return { json: value as Record<string, unknown>, text };
  } catch {
    // not the API's JSON
  }
  return { text };
}

/** The API's `{ error: { code, message } }` as `CODE: message`, else the start of whatever came. */
function reasonOf(answer: { json?: Record<string, unknown>; text: string }): string {
  const error = answer.json?.error as { code?: unknown; message?: unknown } | undefined;
  if (typeof error?.code === "string") return `${error.code}: ${String(error.message)}`;
  return answer.text.slice(0, 200).trim() || "(no reason given)";
}
