import { chmodSync, chownSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";

/** What an instance may see of itself through the API. */
export interface LocalApiInstance {
  name: string;
  parameters: Record<string, unknown>;
  /** Connection parameters as reported: the descriptor's `publish` plus what was published here. */
  connection(): Record<string, string>;
  /** Stores published values (already validated). */
  publish(values: Record<string, string>): void;
}

const MAX_BODY = 64 * 1024;
const MAX_KEYS = 256;
const MAX_VALUE = 4096;

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

/**
 * A partition's local API: HTTP on a unix socket only the partition's group (and root)
 * may connect to. `GET /v1/instance` returns the instance's name, parameters and
 * connection parameters; `PUT /v1/publish` with a JSON object of strings adds to the
 * connection parameters reported to the master (a key published again is replaced).
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
  ): Promise<LocalApi> {
    rmSync(socketPath, { force: true });
    const server = createServer((req, res) => {
      handle(req, res, instance).catch((err: unknown) => {
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

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  instance: LocalApiInstance,
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
    const body = await readBody(req);
    if (body === undefined) return send(res, 413, { error: `body larger than ${MAX_BODY} bytes` });
    const parsed = parsePublish(body);
    if (typeof parsed === "string") return send(res, 400, { error: parsed });
    instance.publish(parsed);
    return send(res, 204);
  }
  send(res, 404, { error: "GET /v1/instance or PUT /v1/publish" });
}
