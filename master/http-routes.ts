import { Ajv, type ValidateFunction } from "ajv";
import { isKeyText } from "../protocol/index.js";
import { placeInstance } from "./allocation.js";
import { addNodeBody, NAME_RULE, requestInstanceBody, supplyBody } from "./api-schemas.js";
import { InvalidRequestError, NotFoundError } from "./errors.js";
import { withState } from "./instance-state.js";
import type { MasterMetrics } from "./metrics.js";
import { withPresence } from "./status/status-snapshot.js";
import type { InstanceRequest, MasterStore, StoredChunk, TelemetryQuery } from "./store.js";
import { findGaps } from "./telemetry-gaps.js";

const ajv = new Ajv({ allErrors: false, strict: true });

export type Handler = (req: {
  params: string[];
  query: URLSearchParams;
  body: () => Promise<unknown>;
}) => Promise<{ status?: number; json?: unknown; text?: string; contentType?: string }>;

export interface Route {
  method: string;
  path: RegExp;
  handler: Handler;
}

/**
 * The API's endpoints (all under the admin token, see http-api.ts). Bodies are checked
 * against api-schemas.ts; query parameters by hand, each error naming the field.
 */
export function apiRoutes(
  store: MasterStore,
  metrics: MasterMetrics,
  lastSeen: (node: string) => number | undefined,
): Route[] {
  const now = Date.now;
  const addNode = compile(addNodeBody);
  const supply = compile(supplyBody);
  const request = compile(requestInstanceBody);
  return [
    {
      method: "GET",
      path: /^\/v1\/nodes$/,
      handler: async () => ({
        json: { nodes: withPresence(await store.listNodes(), lastSeen, now()) },
      }),
    },
    {
      method: "POST",
      path: /^\/v1\/nodes$/,
      handler: async ({ body }) => {
        const input = validated<{ name: string; publicKey: string }>(addNode, await body(), "node");
        if (!isKeyText(input.publicKey)) {
          throw new InvalidRequestError("publicKey: must be a 40-character Z85 CURVE public key");
        }
        const node = await store.addNode(input.name, input.publicKey, now());
        metrics.nodes.set((await store.listNodes()).length);
        return { status: 201, json: { node } };
      },
    },
    {
      method: "GET",
      path: /^\/v1\/nodes\/([^/]+)$/,
      handler: async ({ params }) => {
        const name = params[0] ?? "";
        const node = await store.getNode(name);
        if (!node) throw new NotFoundError(`node '${name}' does not exist`);
        return { json: { node, software: await store.listSoftware(name) } };
      },
    },
    {
      method: "POST",
      path: /^\/v1\/nodes\/([^/]+)\/software$/,
      handler: async ({ params, body }) => {
        const input = validated<{ software: string }>(supply, await body(), "supply");
        await store.supply(params[0] ?? "", input.software, now());
        // A waiting request may have waited for exactly this release.
        await store.placeWaiting(placeInstance, now());
        return { json: { node: params[0], software: await store.listSoftware(params[0] ?? "") } };
      },
    },
    {
      method: "GET",
      path: /^\/v1\/instances$/,
      handler: async ({ query }) => {
        const node = query.get("node") ?? undefined;
        const instances = await store.listInstances(node ? { node } : {});
        return { json: { instances: instances.map(withState) } };
      },
    },
    {
      method: "POST",
      path: /^\/v1\/instances$/,
      handler: async ({ body }) => {
        const input = validated<
          Partial<InstanceRequest> & { name: string; software: string; wait?: boolean }
        >(request, await body(), "request");
        const instance = await store.requestInstance(
          {
            name: input.name,
            software: input.software,
            parameters: input.parameters ?? {},
            ...(input.secrets ? { secrets: input.secrets } : {}),
            cores: input.cores ?? 0,
            ...(input.node ? { node: input.node } : {}),
          },
          placeInstance,
          now(),
          { wait: input.wait ?? true },
        );
        return {
          status: instance.status === "waiting" ? 202 : 201,
          json: { instance: withState(instance) },
        };
      },
    },
    {
      method: "GET",
      path: /^\/v1\/instances\/([^/]+)$/,
      handler: async ({ params }) => {
        const name = params[0] ?? "";
        const instance = await store.getInstance(name);
        if (!instance) throw new NotFoundError(`instance '${name}' does not exist`);
        return { json: { instance: withState(instance), usage: await store.listUsage(name, 10) } };
      },
    },
    {
      method: "DELETE",
      path: /^\/v1\/instances\/([^/]+)$/,
      handler: async ({ params }) => ({
        status: 202,
        json: {
          instance: withState(await store.setRequestedState(params[0] ?? "", "destroyed", now())),
        },
      }),
    },
    {
      method: "GET",
      path: /^\/v1\/telemetry$/,
      handler: async ({ query }) => {
        const q = telemetryQuery(query);
        const [chunks, losses] = await Promise.all([store.queryChunks(q), store.queryLosses(q)]);
        return {
          json: {
            chunks: chunks.map((c) => chunkJson(c, q.withBody === true)),
            losses,
            gaps: findGaps(chunks, losses),
          },
        };
      },
    },
    {
      method: "GET",
      path: /^\/metrics$/,
      handler: async () => ({
        text: await metrics.registry.metrics(),
        contentType: metrics.registry.contentType,
      }),
    },
  ];
}

function compile(schema: object): ValidateFunction {
  return ajv.compile(schema);
}

function validated<T>(validate: ValidateFunction, value: unknown, what: string): T {
  if (validate(value)) return value as T;
  const e = validate.errors?.[0];
  const where = e?.instancePath ? `${e.instancePath.slice(1).replaceAll("/", ".")}: ` : "";
  let message = e?.message ?? "invalid";
  if (e?.keyword === "additionalProperties")
    message = `unknown field '${String(e.params.additionalProperty)}'`;
  if (e?.keyword === "required") message = `missing field '${String(e.params.missingProperty)}'`;
  if (e?.keyword === "pattern") message = `must be ${NAME_RULE}`;
  throw new InvalidRequestError(`${what}: ${where}${message}`);
}

function telemetryQuery(query: URLSearchParams): TelemetryQuery {
  const q: TelemetryQuery = {};
  const node = query.get("node");
  const stream = query.get("stream");
  if (node) q.node = node;
  if (stream) q.stream = stream;
  const since = query.get("since");
  if (since !== null) q.since = integerParam("since", since, Number.MAX_SAFE_INTEGER);
  const limit = query.get("limit");
  q.limit = limit === null ? 1000 : integerParam("limit", limit, 100_000);
  if (query.get("withBody") === "true") q.withBody = true;
  return q;
}

function integerParam(name: string, text: string, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > max) {
    throw new InvalidRequestError(
      `${name}: must be an integer from 0 to ${max}, got '${text.slice(0, 40)}'`,
    );
  }
  return n;
}

function chunkJson(c: StoredChunk, withBody: boolean): Record<string, unknown> {
  const { body, schema, ...rest } = c;
  return {
    ...rest,
    schema: Buffer.from(schema).toString("base64"),
    ...(withBody ? { body: Buffer.from(body).toString("base64") } : {}),
  };
}
