import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  fastify,
} from "fastify";
import type { Logger } from "./logger.js";
import { type ApiInfo, openApiDocument, type RouteDoc, type RouteSchema } from "./openapi.js";

declare module "fastify" {
  /** What a route's schema may carry besides validation, for its OpenAPI entry. */
  interface FastifySchema {
    summary?: string;
    description?: string;
    /** The body's media type when not JSON. */
    consumes?: readonly string[];
    /** The answer's media type when not JSON. */
    produces?: readonly string[];
  }
}

/**
 * Every HTTP server of Outpost (the master's API, a partition's local API, the agent's
 * metrics) is a fastify instance made here, so request validation and error answers
 * work one way everywhere:
 *
 * - each route declares JSON Schemas for its path parameters, query and body; a request
 *   that does not match never reaches the handler (unknown fields are refused, never
 *   dropped; query and path values are coerced to the schema's types, bodies are not);
 * - every error answer is `{ "error": { "code", "message" } }`, its status read from the
 *   component's table keyed by `code` (never by class); an error whose code is not in the
 *   table is a 500 `E_INTERNAL`, logged as `http.failed`, its message not shown;
 * - what the framework refuses before a handler runs (a body over the limit, a schema
 *   mismatch, bad JSON, an unknown path) answers with the component's own codes;
 * - `GET /v1/openapi.json` (with `openapi`) describes every route from the same schemas.
 *
 * Not exported from `common/index.ts`: importing this file loads fastify, which only the
 * processes that serve HTTP should pay for (the agent imports it when it opens its first
 * server).
 */
export interface HttpServerOptions {
  /** The HTTP status of every error `code` the component's handlers may throw. */
  statusByCode: Readonly<Record<string, number>>;
  /** The component's codes, all in `statusByCode`, for what the framework refuses. */
  codes: { invalid: string; notFound: string; tooLarge: string };
  logger: Logger;
  /** Largest request body, bytes, unless a route sets its own `bodyLimit`. */
  bodyLimit: number;
  /** Serve the OpenAPI document of every route at `/v1/openapi.json`. */
  openapi?: ApiInfo;
  /** Whole request, ms (default 30 s); 0 for none (a long-lived event stream). */
  requestTimeoutMs?: number;
}

/** Answered for an error whose code the component's table does not hold. */
export const INTERNAL_ERROR = "E_INTERNAL";

// One compiled validator per schema object for the whole process: a partition's local
// API is one fastify instance per running instance, and they share their schemas.
// `verbose`: a refusal can quote the failing schema's `description`.
const bodyAjv = new Ajv({ allErrors: false, strict: true, verbose: true });
const paramAjv = new Ajv({ allErrors: false, strict: true, verbose: true, coerceTypes: true });
const compiled = new Map<Ajv, WeakMap<object, ValidateFunction>>([
  [bodyAjv, new WeakMap()],
  [paramAjv, new WeakMap()],
]);

function validatorFor(ajv: Ajv, schema: object): ValidateFunction {
  const cache = compiled.get(ajv) as WeakMap<object, ValidateFunction>;
  let validate = cache.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    cache.set(schema, validate);
  }
  return validate;
}

function validatorCompiler({ schema, httpPart }: { schema: object; httpPart?: string }) {
  return validatorFor(httpPart === "body" ? bodyAjv : paramAjv, schema);
}

interface HttpFailure {
  status: number;
  code: string;
  message: string;
}

/** A fastify instance with Outpost's validation, error answers and route documentation. */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const { statusByCode, codes, logger } = options;
  for (const code of Object.values(codes)) {
    if (statusByCode[code] === undefined) throw new RangeError(`${code} has no HTTP status`);
  }
  const failure = (code: string, message: string): HttpFailure => ({
    status: statusByCode[code] as number,
    code,
    message,
  });
  const app = fastify({
    logger: false,
    bodyLimit: options.bodyLimit,
    exposeHeadRoutes: false,
    // close() ends keep-alive connections and event streams too.
    forceCloseConnections: true,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    // Our compilers from the start: fastify then never loads its default ones (a second
    // ajv with JTD and formats, fast-json-stringify), which cost the agent ~10 MB of RSS.
    schemaController: {
      compilersFactory: {
        buildValidator: () => validatorCompiler,
        // Answers are what the handler returns, as JSON; response schemas only document.
        buildSerializer: () => () => (data: unknown) => JSON.stringify(data),
      },
    } as FastifyServerOptions["schemaController"],
    // A path whose percent-encoding does not decode, before any route is matched.
    frameworkErrors: (err, request, reply) => {
      const bad = err.code === "FST_ERR_BAD_URL";
      const text = request.url.split("?")[0]?.split("/").find(notDecodable) ?? request.url;
      send(
        reply,
        bad
          ? failure(codes.invalid, `path: '${text.slice(0, 64)}' is not valid percent-encoding`)
          : failure(codes.invalid, err.message),
      );
    },
  });
  app.server.headersTimeout = 10_000;

  const routes: RouteDoc[] = [];
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods)
      routes.push({ method, url: route.url, schema: route.schema as RouteSchema });
  });

  const notFound = (request: FastifyRequest) =>
    failure(codes.notFound, `no such endpoint: ${request.method} ${request.url.split("?")[0]}`);
  app.setNotFoundHandler((request, reply) => send(reply, notFound(request)));

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const known = typeof err.code === "string" ? statusByCode[err.code] : undefined;
    if (known !== undefined) {
      send(reply, { status: known, code: err.code, message: err.message });
      return;
    }
    // An unknown path is that, whatever its body (which fastify reads first).
    if (request.is404) {
      send(reply, notFound(request));
      return;
    }
    const framework = frameworkFailure(err, request, codes);
    if (framework) {
      send(reply, failure(framework.code, framework.message));
      return;
    }
    logger.error({ err, method: request.method, url: request.url }, "http.failed");
    send(reply, { status: 500, code: INTERNAL_ERROR, message: "internal error" });
  });

  if (options.openapi) {
    const info = options.openapi;
    app.get(
      "/v1/openapi.json",
      {
        schema: {
          summary: "This document: every route of this API (OpenAPI 3.1)",
          response: { 200: { description: "OpenAPI document", type: "object" } },
        },
      },
      async () => openApiDocument(info, routes),
    );
  }
  return app;
}

function send(reply: FastifyReply, failure: HttpFailure): void {
  reply
    .code(failure.status)
    .type("application/json")
    .send(`${JSON.stringify({ error: { code: failure.code, message: failure.message } })}\n`);
}

/** What fastify refused before the handler ran, in the component's codes; else undefined. */
function frameworkFailure(
  err: FastifyError,
  request: FastifyRequest,
  codes: HttpServerOptions["codes"],
): { code: string; message: string } | undefined {
  switch (err.code) {
    case "FST_ERR_VALIDATION":
      return {
        code: codes.invalid,
        message: validationMessage(err.validation?.[0], err.validationContext, request),
      };
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return {
        code: codes.tooLarge,
        message: `body larger than ${request.routeOptions.bodyLimit} bytes`,
      };
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return { code: codes.invalid, message: "body: not valid JSON" };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { code: codes.invalid, message: "body: empty" };
  }
  if (err.code?.startsWith("FST_") && (err.statusCode ?? 500) < 500)
    return { code: codes.invalid, message: err.message };
  return undefined;
}

/**
 * `WHAT: FIELD: PROBLEM`: WHAT is the schema's `title` (else the part of the request),
 * FIELD the dotted path; a refused pattern says `must be <the schema's description>`,
 * other refusals add the description in brackets.
 */
function validationMessage(
  error: (Partial<ErrorObject> & { message?: string }) | undefined,
  context: string | undefined,
  request: FastifyRequest,
): string {
  const part = context ?? "request";
  const schema = (request.routeOptions.schema as Record<string, unknown> | undefined)?.[part] as
    | { title?: string }
    | undefined;
  const what = schema?.title ?? part;
  if (!error) return `${what}: invalid`;
  const path = error.instancePath ? error.instancePath.slice(1).replaceAll("/", ".") : "";
  const where = path ? `${path}: ` : "";
  const params = (error.params ?? {}) as Record<string, unknown>;
  const description = (error.parentSchema as { description?: unknown } | undefined)?.description;
  let message = error.message ?? "invalid";
  if (error.keyword === "additionalProperties")
    message = `unknown field '${String(params.additionalProperty)}'`;
  else if (error.keyword === "required")
    message = `missing field '${String(params.missingProperty)}'`;
  else if (typeof description === "string")
    message =
      error.keyword === "pattern" ? `must be ${description}` : `${message} (${description})`;
  return `${what}: ${where}${message}`;
}

function notDecodable(segment: string): boolean {
  try {
    decodeURIComponent(segment);
    return false;
  } catch {
    return true;
  }
}

/** What a Prometheus registry (prom-client's `Registry`) offers a scrape. */
export interface MetricsRegistry {
  contentType: string;
  metrics(): Promise<string>;
}

/** `GET /metrics`: the registry in Prometheus text format. */
export function addMetricsRoute(app: FastifyInstance, registry: MetricsRegistry): void {
  app.get(
    "/metrics",
    {
      schema: {
        summary: "Prometheus metrics",
        produces: ["text/plain"],
        response: { 200: { description: "Prometheus text format", type: "string" } },
      },
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
}
