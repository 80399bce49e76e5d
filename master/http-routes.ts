import type { FastifyInstance } from "fastify";
import { addMetricsRoute } from "../common/http-server.js";
import { isKeyText } from "../protocol/index.js";
import { placeInstance } from "./allocation.js";
import {
  addNodeBody,
  answer,
  instancesQuery,
  nameParams,
  requestInstanceBody,
  supplyBody,
  TELEMETRY_DEFAULT_LIMIT,
  telemetryQuery,
} from "./api-schemas.js";
import { InvalidRequestError, NotFoundError } from "./errors.js";
import { withState } from "./instance-state.js";
import type { MasterMetrics } from "./metrics.js";
import { withPresence } from "./status/status-snapshot.js";
import type { InstanceRequest, MasterStore, StoredChunk, TelemetryQuery } from "./store.js";
import { findGaps } from "./telemetry-gaps.js";

type Named = { Params: { name: string } };

/**
 * The API's endpoints (all under the admin token, see http-api.ts). Requests are checked
 * against api-schemas.ts by the framework before a handler runs.
 */
export function registerApiRoutes(
  app: FastifyInstance,
  store: MasterStore,
  metrics: MasterMetrics,
  lastSeen: (node: string) => number | undefined,
): void {
  const now = Date.now;

  app.get(
    "/v1/nodes",
    { schema: { summary: "Every node, online or not", response: { 200: answer("", "nodes") } } },
    async () => ({ nodes: withPresence(await store.listNodes(), lastSeen, now()) }),
  );

  app.post<{ Body: { name: string; publicKey: string } }>(
    "/v1/nodes",
    {
      schema: {
        summary: "Add a node by its public key (`outpost node add`)",
        body: addNodeBody,
        response: { 201: answer("Added", "node") },
      },
    },
    async (request, reply) => {
      const input = request.body;
      if (!isKeyText(input.publicKey)) {
        throw new InvalidRequestError("publicKey: must be a 40-character Z85 CURVE public key");
      }
      const node = await store.addNode(input.name, input.publicKey, now());
      return reply.code(201).send({ node });
    },
  );

  app.get<Named>(
    "/v1/nodes/:name",
    {
      schema: {
        summary: "A node and the software supplied to it",
        params: nameParams,
        response: { 200: answer("", "node", "software") },
      },
    },
    async (request) => {
      const { name } = request.params;
      const node = await store.getNode(name);
      if (!node) throw new NotFoundError(`node '${name}' does not exist`);
      return { node, software: await store.listSoftware(name) };
    },
  );

  app.post<Named & { Body: { software: string } }>(
    "/v1/nodes/:name/software",
    {
      schema: {
        summary: "Supply a release to a node (`outpost supply`)",
        params: nameParams,
        body: supplyBody,
        response: { 200: answer("Supplied", "node", "software") },
      },
    },
    async (request) => {
      const { name } = request.params;
      await store.supply(name, request.body.software, now());
      // A waiting request may have waited for exactly this release.
      await store.placeWaiting(placeInstance, now());
      return { node: name, software: await store.listSoftware(name) };
    },
  );

  app.get<{ Querystring: { node?: string } }>(
    "/v1/instances",
    {
      schema: {
        summary: "Every instance (secret values masked)",
        querystring: instancesQuery,
        response: { 200: answer("", "instances") },
      },
    },
    async (request) => {
      const node = request.query.node || undefined;
      const instances = await store.listInstances(node ? { node } : {});
      return { instances: instances.map(withState) };
    },
  );

  app.post<{
    Body: Partial<InstanceRequest> & { name: string; software: string; wait?: boolean };
  }>(
    "/v1/instances",
    {
      schema: {
        summary: "Request an instance (`outpost request`)",
        body: requestInstanceBody,
        response: {
          201: answer("Placed on a node", "instance"),
          202: answer("Kept waiting until a node can take it", "instance"),
        },
      },
    },
    async (request, reply) => {
      const input = request.body;
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
      return reply
        .code(instance.status === "waiting" ? 202 : 201)
        .send({ instance: withState(instance) });
    },
  );

  app.get<Named>(
    "/v1/instances/:name",
    {
      schema: {
        summary: "An instance and its last usage reports (`outpost show`)",
        params: nameParams,
        response: { 200: answer("", "instance", "usage") },
      },
    },
    async (request) => {
      const { name } = request.params;
      const instance = await store.getInstance(name);
      if (!instance) throw new NotFoundError(`instance '${name}' does not exist`);
      return { instance: withState(instance), usage: await store.listUsage(name, 10) };
    },
  );

  app.delete<Named>(
    "/v1/instances/:name",
    {
      schema: {
        summary: "Destroy an instance (`outpost destroy`)",
        params: nameParams,
        response: { 202: answer("Its node will destroy it", "instance") },
      },
    },
    async (request, reply) =>
      reply.code(202).send({
        instance: withState(await store.setRequestedState(request.params.name, "destroyed", now())),
      }),
  );

  app.get<{ Querystring: TelemetryQuery }>(
    "/v1/telemetry",
    {
      schema: {
        summary:
          "Chunk metadata, loss events, the sequence gaps between the chunks, and what ingest kept raw or could not trust (per node counts, chunks that failed to decode and why)",
        querystring: telemetryQuery,
        response: {
          200: answer("", "chunks", "losses", "gaps", "readingCounts", "decodeFailures"),
        },
      },
    },
    async (request) => {
      const { node, stream, since, limit, withBody } = request.query;
      const q: TelemetryQuery = {
        ...(node ? { node } : {}),
        ...(stream ? { stream } : {}),
        ...(since !== undefined ? { since } : {}),
        limit: limit ?? TELEMETRY_DEFAULT_LIMIT,
        ...(withBody ? { withBody } : {}),
      };
      const [chunks, losses, counts, decodeFailures] = await Promise.all([
        store.queryChunks(q),
        store.queryLosses(q),
        store.readingCounts(),
        store.decodeFailures({ ...(node ? { node } : {}), limit: q.limit }),
      ]);
      return {
        chunks: chunks.map((c) => chunkJson(c, q.withBody === true)),
        losses,
        gaps: findGaps(chunks, losses),
        readingCounts: node ? counts.filter((n) => n.node === node) : counts,
        decodeFailures,
      };
    },
  );

  addMetricsRoute(app, metrics.registry);
}

function chunkJson(c: StoredChunk, withBody: boolean): Record<string, unknown> {
  const { body, schema, ...rest } = c;
  return {
    ...rest,
    schema: Buffer.from(schema).toString("base64"),
    ...(withBody ? { body: Buffer.from(body).toString("base64") } : {}),
  };
}
