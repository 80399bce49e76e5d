import { chmodSync, chownSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Encoder } from "cbor-x";
import type { Logger } from "pino";
import {
  type BacklogBody,
  MAX_TELEMETRY_BODY,
  parseBacklogBody,
  parseChunkBody,
  parseLossBody,
} from "./telemetry-body.js";
import { relayFailure, type TelemetryRelay } from "./telemetry-relay.js";

/** What an instance may see of itself through the API. */
export interface LocalApiInstance {
  name: string;
  parameters: Record<string, unknown>;
  /** Connection parameters as reported: the descriptor's `publish` plus what was published here. */
  connection(): Record<string, string>;
  /** Stores published values (already validated). */
  publish(values: Record<string, string>): void;
  /** Keeps what the instance's forwarder says is not delivered yet (reported to the master). */
  backlog(backlog: BacklogBody): void;
}

/** The node's relay to the master and this API's partition number (ids are namespaced by it). */
export interface LocalApiTelemetry {
  relay: TelemetryRelay;
  partition: number;
}

const MAX_BODY = 64 * 1024;
const MAX_KEYS = 256;
const MAX_VALUE = 4096;
/**
 * Telemetry requests of one partition being read or relayed at once; more get 429. Bounds
 * what one partition can make the agent hold (8 × 16 MiB); a forwarder's window is 4.
 */
export const MAX_TELEMETRY_IN_FLIGHT = 8;

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

/** Pure: a publish body, or why it is refused. */
export function parsePublish(body: string): Record<string, string> | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return "body is not JSON";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return "body must be a JSON object of strings";
  const entries = Object.entries(value);
  if (entries.length > MAX_KEYS) return `at most ${MAX_KEYS} keys`;
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > 128)
      return `key '${k.slice(0, 40)}' must be 1..128 characters`;
    if (typeof v !== "string") return `'${k}' must be a string`;
    if (v.length > MAX_VALUE) return `'${k}' is longer than ${MAX_VALUE} characters`;
  }
  return value as Record<string, string>;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  res.statusCode = status;
  if (body === undefined) {
    res.end();
    return;
  }
  res.setHeader("content-type", "application/json");
  res.end(`${JSON.stringify(body)}\n`);
}

function sendCbor(res: ServerResponse, body: Record<string, number>): void {
  res.statusCode = 200;
  res.setHeader("content-type", "application/cbor");
  res.end(cbor.encode(body));
}

/**
 * A partition's local API: HTTP on a unix socket only the partition's group (and root)
 * may connect to. `GET /v1/instance` returns the instance's name, parameters and
 * connection parameters; `PUT /v1/publish` with a JSON object of strings adds to the
 * connection parameters reported to the master (a key published again is replaced).
 * With `telemetry`, `POST /v1/telemetry` and `POST /v1/loss` take a CBOR `OutboundChunk`
 * / `LossEvent` from the partition's buffer forwarder and answer 200 only once the master
 * committed it (see TelemetryRelay), and `POST /v1/buffer` takes the forwarder's backlog
 * (CBOR `{ records, bytes, oldestAgeMs }`), answered at once: the link may be down.
 */
export class LocalApi {
  private constructor(
    readonly socketPath: string,
    private readonly server: Server,
  ) {}

  static async open(
    socketPath: string,
    gid: number | undefined,
    instance: LocalApiInstance,
    logger: Logger,
    telemetry?: LocalApiTelemetry,
  ): Promise<LocalApi> {
    rmSync(socketPath, { force: true });
    const inFlight = { count: 0 };
    const server = createServer((req, res) => {
      handle(req, res, instance, telemetry, inFlight).catch((err: unknown) => {
        logger.warn({ err, instance: instance.name }, "local_api.failed");
        if (!res.headersSent) send(res, 500, { error: "internal error" });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => resolve());
    });
    if (gid !== undefined) chownSync(socketPath, 0, gid);
    chmodSync(socketPath, 0o660);
    return new LocalApi(socketPath, server);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
    rmSync(this.socketPath, { force: true });
  }
}

type Body = Buffer | "too-large" | "gone";

/**
 * The whole body, or `too-large` past `limit`. Past the limit the rest is still read (and
 * dropped) so that the client, still writing, gets the 413 instead of a reset; `gone`
 * when the client hung up first.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  if (Number(req.headers["content-length"]) > limit) {
    req.resume();
    return Promise.resolve("too-large");
  }
  return new Promise<Body>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.once("end", () => resolve(size > limit ? "too-large" : Buffer.concat(chunks, size)));
    req.once("error", () => resolve("gone"));
    req.once("close", () => {
      if (!req.complete) resolve("gone");
    });
  });
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  instance: LocalApiInstance,
  telemetry: LocalApiTelemetry | undefined,
  inFlight: { count: number },
): Promise<void> {
  if (req.url === "/v1/instance" && req.method === "GET") {
    send(res, 200, {
      name: instance.name,
      parameters: instance.parameters,
      connection: instance.connection(),
    });
    return;
  }
  if (req.url === "/v1/publish" && req.method === "PUT") {
    const body = await readBody(req, MAX_BODY);
    if (body === "gone") return;
    if (body === "too-large")
      return send(res, 413, { error: `body larger than ${MAX_BODY} bytes` });
    const parsed = parsePublish(body.toString("utf8"));
    if (typeof parsed === "string") return send(res, 400, { error: parsed });
    instance.publish(parsed);
    return send(res, 204);
  }
  if (telemetry && req.url === "/v1/buffer" && req.method === "POST") {
    const body = await readBody(req, MAX_BODY);
    if (body === "gone") return;
    if (body === "too-large")
      return send(res, 413, { error: `body larger than ${MAX_BODY} bytes` });
    const backlog = parseBacklogBody(body);
    if (typeof backlog === "string") return send(res, 400, { error: backlog });
    instance.backlog(backlog);
    return sendCbor(res, { records: backlog.records });
  }
  if (
    telemetry &&
    (req.url === "/v1/telemetry" || req.url === "/v1/loss") &&
    req.method === "POST"
  ) {
    if (inFlight.count >= MAX_TELEMETRY_IN_FLIGHT) {
      req.resume();
      return send(res, 429, {
        error: `more than ${MAX_TELEMETRY_IN_FLIGHT} telemetry requests in flight`,
      });
    }
    inFlight.count++;
    try {
      await relayBody(req, res, telemetry);
    } finally {
      inFlight.count--;
    }
    return;
  }
  send(res, 404, {
    error: telemetry
      ? "GET /v1/instance, PUT /v1/publish, POST /v1/telemetry, POST /v1/loss or POST /v1/buffer"
      : "GET /v1/instance or PUT /v1/publish",
  });
}

/** One chunk or loss event, relayed; the answer waits for the master's ack. */
async function relayBody(
  req: IncomingMessage,
  res: ServerResponse,
  { relay, partition }: LocalApiTelemetry,
): Promise<void> {
  const body = await readBody(req, MAX_TELEMETRY_BODY);
  if (body === "gone") return;
  if (body === "too-large")
    return send(res, 413, { error: `body larger than ${MAX_TELEMETRY_BODY} bytes` });
  // The partition hanging up (its ack timeout) abandons the send to the master too.
  const abandoned = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) abandoned.abort(new Error("the partition closed the request"));
  });
  try {
    if (req.url === "/v1/telemetry") {
      const chunk = parseChunkBody(body);
      if (typeof chunk === "string") return send(res, 400, { error: chunk });
      await relay.relayChunk(partition, chunk, abandoned.signal);
      return sendCbor(res, { chunkId: chunk.chunkId });
    }
    const loss = parseLossBody(body);
    if (typeof loss === "string") return send(res, 400, { error: loss });
    await relay.relayLoss(partition, loss, abandoned.signal);
    return sendCbor(res, { lossId: loss.id });
  } catch (err) {
    if (abandoned.signal.aborted) return;
    const { status, reason } = relayFailure(err);
    return send(res, status, { error: reason });
  }
}
