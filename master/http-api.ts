import { createHash, timingSafeEqual } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { FastifyInstance, FastifyReply } from "fastify";
import { createHttpServer } from "../common/http-server.js";
import type { Logger } from "../common/index.js";
import { UnauthorizedError } from "./errors.js";
import { registerApiRoutes } from "./http-routes.js";
import type { MasterMetrics } from "./metrics.js";
import { ReadinessCheck, registerHealthRoutes } from "./readiness.js";
import { registerReadingsRoute } from "./readings/readings-route.js";
import { assetBody, CHART_ASSETS } from "./status/chart-assets.js";
import { STATUS_PAGE_HTML } from "./status/status-page.js";
import type { StatusSnapshot } from "./status/status-snapshot.js";
import type { MasterStore } from "./store.js";

/** How often the status page's event stream sends a fresh snapshot. */
export const STATUS_EVERY_MS = 1_000;

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The HTTP status of every code the API answers with; the one table errors are mapped
 * by (docs/errors.md). Codes not listed are a 500 `E_INTERNAL`.
 */
export const MASTER_HTTP_STATUS: Readonly<Record<string, number>> = {
  E_MASTER_INVALID: 400,
  E_MASTER_UNAUTHORIZED: 401,
  E_MASTER_NOT_FOUND: 404,
  E_MASTER_CONFLICT: 409,
  E_MASTER_NO_CAPACITY: 409,
};

/**
 * The routes without the token: the status page itself holds no data, nor do its
 * scripts; the health probes say only up or not (see readiness.ts).
 */
const STATUS_PAGE = "GET /";
const OPEN_ROUTES = [
  STATUS_PAGE,
  ...CHART_ASSETS.map((a) => `GET ${a.path}`),
  "GET /healthz",
  "GET /readyz",
];

export interface HttpApiOptions {
  store: MasterStore;
  adminToken: string;
  metrics: MasterMetrics;
  logger: Logger;
  /**
   * When this master's control link last heard from a node, fresher than the store's
   * (`online` in `GET /v1/nodes`); nothing when masters share the store.
   */
  lastSeen: (node: string) => number | undefined;
  /** What the status page shows (`GET /v1/status`, `GET /v1/events`). */
  status: () => Promise<StatusSnapshot>;
  /** Whether the node link is bound and reading (`/readyz`). */
  linkBound: () => boolean;
}

/**
 * The master's HTTP API (JSON), for the CLI and the status page. Every request must carry
 * `Authorization: Bearer <admin token>`, `/metrics` and `/v1/openapi.json` included
 * (Prometheus: `authorization.credentials_file`); without it the answer is 401. The
 * exceptions hold no data: `GET /`, the status page itself (it asks the API with the
 * token it was given in its URL fragment), and the probes `/healthz` and `/readyz`. Errors are `{ "error": { "code",
 * "message" } }` with the status of MASTER_HTTP_STATUS.
 */
export class HttpApi {
  private readonly app: FastifyInstance;
  private readonly tokenDigest: Buffer;

  constructor(private readonly options: HttpApiOptions) {
    this.tokenDigest = digest(options.adminToken);
    const app = createHttpServer({
      statusByCode: MASTER_HTTP_STATUS,
      codes: {
        invalid: "E_MASTER_INVALID",
        notFound: "E_MASTER_NOT_FOUND",
        tooLarge: "E_MASTER_INVALID",
      },
      logger: options.logger,
      bodyLimit: MAX_BODY_BYTES,
      openapi: {
        title: "Outpost master",
        version: "1",
        description: "The master's HTTP API (master/README.md)",
        bearer: { except: OPEN_ROUTES },
      },
    });
    this.app = app;
    // The body is JSON whatever the client calls it (curl -d sends a form type).
    app.addContentTypeParser(
      "*",
      { parseAs: "string" },
      app.getDefaultJsonParser("error", "error"),
    );
    app.addHook("onRequest", async (request, reply) => {
      if (OPEN_ROUTES.includes(`${request.method} ${request.url.split("?")[0]}`)) return;
      if (!this.authorized(request.headers.authorization)) {
        reply.header("www-authenticate", 'Bearer realm="outpost"');
        throw new UnauthorizedError();
      }
    });
    app.addHook("onResponse", async (request, reply) => {
      options.metrics.http.inc({ method: request.method, status: String(reply.statusCode) });
    });
    app.get(
      "/",
      {
        schema: {
          summary: "The status page (takes the token from its URL fragment, `/#token=…`)",
          produces: ["text/html"],
          response: { 200: { description: "One self-contained page", type: "string" } },
        },
      },
      async (_request, reply) =>
        reply
          .type("text/html; charset=utf-8")
          .header(
            "content-security-policy",
            "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; connect-src 'self'",
          )
          .send(STATUS_PAGE_HTML),
    );
    for (const asset of CHART_ASSETS) {
      app.get(
        asset.path,
        {
          schema: {
            summary: "A file of the status page (uPlot, the chart library), without the token",
            produces: [asset.type],
            response: { 200: { description: "The file", type: "string" } },
          },
        },
        async (_request, reply) =>
          reply
            .type(`${asset.type}; charset=utf-8`)
            .header("cache-control", "max-age=3600")
            .send(assetBody(asset)),
      );
    }
    app.get(
      "/v1/status",
      {
        schema: {
          summary: "What the status page shows: nodes, instances, telemetry",
          response: { 200: { description: "A status snapshot", type: "object" } },
        },
      },
      () => options.status(),
    );
    app.get(
      "/v1/events",
      {
        schema: {
          summary: `Server-sent events: a \`status\` snapshot now and every ${STATUS_EVERY_MS} ms`,
          produces: ["text/event-stream"],
          response: { 200: { description: "`event: status` with the snapshot as data" } },
        },
      },
      async (_request, reply) => this.streamStatus(reply),
    );
    registerHealthRoutes(app, new ReadinessCheck(options.store, options.linkBound, options.logger));
    registerApiRoutes(app, options.store, options.metrics, options.lastSeen);
    registerReadingsRoute(app, options.store, options.logger);
  }

  /** Listens on `host:port` (port 0 for an ephemeral one); resolves with the bound address. */
  async listen(host: string, port: number): Promise<AddressInfo> {
    await this.app.listen({ host, port });
    return this.app.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    await this.app.close();
  }

  /** The framework's own listing of the routes it serves (a test checks the document by it). */
  routeTable(): string {
    return this.app.printRoutes({ commonPrefix: false });
  }

  /** Server-sent events: a status snapshot now and every STATUS_EVERY_MS until the client leaves. */
  private streamStatus(reply: FastifyReply): void {
    reply.hijack();
    const res = reply.raw;
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
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
