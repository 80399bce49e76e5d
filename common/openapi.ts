/**
 * The OpenAPI 3.1 document of an HTTP server made by `createHttpServer`, built from the
 * routes as registered: their path, method and JSON Schemas (OpenAPI 3.1 takes JSON
 * Schema as it is, so the schemas that validate requests are the ones documented).
 */
export interface ApiInfo {
  title: string;
  version: string;
  description?: string;
  /** Every route needs `Authorization: Bearer <token>` except those listed (`METHOD /path`). */
  bearer?: { except: string[] };
}

/** A route as fastify registered it (`url` in its `/a/:b` form). */
export interface RouteDoc {
  method: string;
  url: string;
  schema?: RouteSchema;
}

/** The parts of a fastify route schema the document reads. */
export interface RouteSchema {
  summary?: string;
  description?: string;
  params?: ObjectSchema;
  querystring?: ObjectSchema;
  body?: object;
  /** The body's media type when not JSON (e.g. `application/octet-stream`). */
  consumes?: readonly string[];
  /** Status → `{ description, ...JSON Schema }`; a `produces` media type other than JSON. */
  response?: Record<string, { description?: string; [k: string]: unknown }>;
  produces?: readonly string[];
}

interface ObjectSchema {
  properties?: Record<string, { description?: string }>;
  required?: readonly string[];
}

const ERROR_BODY = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string" }, message: { type: "string" } },
    },
  },
};

/** `/a/:b` → `/a/{b}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

/** Pure: the document of `routes`. */
export function openApiDocument(info: ApiInfo, routes: RouteDoc[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of [...routes].sort((a, b) => a.url.localeCompare(b.url))) {
    const s = route.schema ?? {};
    const method = route.method.toLowerCase();
    const parameters = [...parametersOf("path", s.params), ...parametersOf("query", s.querystring)];
    const responses: Record<string, unknown> = {};
    for (const [status, { description, ...schema }] of Object.entries(s.response ?? {})) {
      const media = s.produces?.[0] ?? "application/json";
      responses[status] = {
        description: description ?? "",
        ...(Object.keys(schema).length > 0 ? { content: { [media]: { schema } } } : {}),
      };
    }
    responses.default = {
      description: "An error: `code` says which (docs/errors.md), `message` why",
      content: { "application/json": { schema: ERROR_BODY } },
    };
    const open = info.bearer?.except.includes(`${route.method} ${route.url}`) === true;
    paths[openApiPath(route.url)] ??= {};
    (paths[openApiPath(route.url)] as Record<string, unknown>)[method] = {
      ...(s.summary ? { summary: s.summary } : {}),
      ...(s.description ? { description: s.description } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...requestBodyOf(s),
      responses,
      ...(info.bearer && open ? { security: [] } : {}),
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: info.title,
      version: info.version,
      ...(info.description ? { description: info.description } : {}),
    },
    ...(info.bearer
      ? {
          components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
          security: [{ bearer: [] }],
        }
      : {}),
    paths,
  };
}

/** A JSON Schema'd body, or bytes of the media type the route `consumes`. */
function requestBodyOf(s: RouteSchema): { requestBody?: object } {
  const media = s.consumes?.[0];
  if (s.body)
    return {
      requestBody: {
        required: true,
        content: { [media ?? "application/json"]: { schema: s.body } },
      },
    };
  if (media)
    return {
      requestBody: {
        required: true,
        content: { [media]: { schema: { type: "string", contentMediaType: media } } },
      },
    };
  return {};
}

function parametersOf(where: "path" | "query", schema: ObjectSchema | undefined): object[] {
  return Object.entries(schema?.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || (schema?.required ?? []).includes(name),
    ...(property.description ? { description: property.description } : {}),
    schema: property,
  }));
}
