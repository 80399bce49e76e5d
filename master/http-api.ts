import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { InvalidRequestError, MasterError, NotFoundError, UnauthorizedError } from "./errors.js";
import { apiRoutes, type Route } from "./http-routes.js";
import type { MasterMetrics } from "./metrics.js";
import { STATUS_PAGE_HTML } from "./status/status-page.js";
import type { StatusSnapshot } from "./status/status-snapshot.js";
import type { MasterStore } from "./store.js";

/** How often the status page's event stream sends a fresh snapshot. */
export const STATUS_EVERY_MS = 1_000;

const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpApiOptions {
  store: MasterStore;
  adminToken: string;
  metrics: MasterMetrics;
  logger: Logger;
  /** When the control link last heard from a node (`online` in `GET /v1/nodes`). */
  lastSeen: (node: string) => number | undefined;
  /** What the status page shows (`GET /v1/status`, `GET /v1/events`). */
  status: () => Promise<StatusSnapshot>;
}

/**
 * The master's HTTP API (JSON), for the CLI and the status page. Every request must carry
 * `Authorization: Bearer <admin token>`, `/metrics` included (Prometheus:
 * `authorization.credentials_file`); without it the answer is 401. The one exception is
 * `GET /`, the status page itself, which holds no data: it asks the API with the token
 * it was given in its URL fragment. Errors are `{ "error": { "code", "message" } }` with
 * the error class's status.
 */
export class HttpApi {
  private readonly server: Server;
  private readonly tokenDigest: Buffer;
  private readonly routes: Route[];

  constructor(private readonly options: HttpApiOptions) {
    this.tokenDigest = digest(options.adminToken);
    this.routes = [
      ...apiRoutes(options.store, options.metrics, options.lastSeen),
      {
        method: "GET",
        path: /^\/v1\/status$/,
        handler: async () => ({ json: await options.status() }),
      },
    ];
    this.server = createServer((req, res) => void this.serve(req, res));
    this.server.requestTimeout = 30_000;
    this.server.headersTimeout = 10_000;
  }

  /** Listens on `host:port` (port 0 for an ephemeral one); resolves with the bound address. */
  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    let status = 500;
    try {
      const url = new URL(req.url ?? "/", "http://master");
      if (method === "GET" && url.pathname === "/") {
        status = 200;
        res.writeHead(status, {
          "content-type": "text/html; charset=utf-8",
          "content-security-policy":
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
        });
        res.end(STATUS_PAGE_HTML);
        return;
      }
      if (!this.authorized(req.headers.authorization)) throw new UnauthorizedError();
      if (method === "GET" && url.pathname === "/v1/events") {
        status = 200;
        this.streamStatus(res);
        return;
      }
      const { route, params } = this.match(method, url.pathname);
      const out = await route.handler({
        params,
        query: url.searchParams,
        body: () => readJson(req),
      });
      status = out.status ?? 200;
      if (out.text !== undefined) {
        res.writeHead(status, { "content-type": out.contentType ?? "text/plain; charset=utf-8" });
        res.end(out.text);
      } else {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(`${JSON.stringify(out.json ?? {})}\n`);
      }
    } catch (err) {
      const known = err instanceof MasterError && err.status < 500;
      status = known ? (err as MasterError).status : 500;
      if (!known) this.options.logger.error({ err, method, url: req.url }, "http.failed");
      const body = known
        ? { code: (err as MasterError).code, message: (err as MasterError).message }
        : { code: "E_INTERNAL", message: "internal error" };
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (status === 401) headers["www-authenticate"] = 'Bearer realm="outpost"';
      if (!res.headersSent) res.writeHead(status, headers);
      res.end(`${JSON.stringify({ error: body })}\n`);
    } finally {
      this.options.metrics.http.inc({ method, status: String(status) });
    }
  }

  /** Server-sent events: a status snapshot now and every STATUS_EVERY_MS until the client leaves. */
  private streamStatus(res: ServerResponse): void {
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    let sending = false;
    const send = async () => {
      if (sending) return;
      sending = true;
      try {
        res.write(`event: status\ndata: ${JSON.stringify(await this.options.status())}\n\n`);
      } catch (err) {
        this.options.logger.error({ err }, "http.status_failed");
      } finally {
        sending = false;
      }
    };
    void send();
    const timer = setInterval(() => void send(), STATUS_EVERY_MS);
    res.once("close", () => clearInterval(timer));
  }

  private authorized(header: string | undefined): boolean {
    const match = /^Bearer (\S+)$/.exec(header ?? "");
    return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), this.tokenDigest);
  }

  private match(method: string, path: string): { route: Route; params: string[] } {
    let pathKnown = false;
    for (const route of this.routes) {
      const m = route.path.exec(path);
      if (!m) continue;
      pathKnown = true;
      if (route.method === method) return { route, params: m.slice(1).map(pathParam) };
    }
    if (pathKnown) throw new InvalidRequestError(`${method} is not allowed on ${path}`);
    throw new NotFoundError(`no such endpoint: ${path}`);
  }
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function pathParam(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new InvalidRequestError(`path: '${text.slice(0, 64)}' is not valid percent-encoding`);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > MAX_BODY_BYTES)
      throw new InvalidRequestError(`body: larger than ${MAX_BODY_BYTES} bytes`);
    parts.push(part);
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString("utf8"));
  } catch {
    throw new InvalidRequestError("body: not valid JSON");
  }
}
