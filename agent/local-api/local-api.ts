import { chmodSync, chownSync, rmSync } from "node:fs";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "../../common/index.js";
import type { Backlog, Chunk, Loss } from "../../protocol/index.js";
import { PartitionBacklog } from "./backlog.js";
import { LocalApiBusyError, LocalApiInvalidError, RelaySchemaRefusedError } from "./errors.js";
import {
  type BacklogQuery,
  backlogOfQuery,
  backlogQuerySchema,
  type ChunkQuery,
  chunkOfQuery,
  chunkQuerySchema,
  lossBodySchema,
  MAX_SCHEMA_BODY,
  MAX_TELEMETRY_BODY,
  type SchemaQuery,
  schemaQuerySchema,
} from "./telemetry-body.js";
import type { TelemetryRelay } from "./telemetry-relay.js";

/** What an instance may see of itself through the API. */
export interface LocalApiInstance {
  name: string;
  parameters: Record<string, unknown>;
  /** Connection parameters as reported: the descriptor's `publish` plus what was published here. */
  connection(): Record<string, string>;
  /** Stores published values (already validated). */
  publish(values: Record<string, string>): void;
  /**
   * What the instance's buffer has not delivered yet, as its forwarder's posts say it and
   * the relays in flight add to it (reported to the master); told on every change.
   */
  backlog(backlog: Backlog): void;
}

/** The node's relay to the master and this API's partition number (ids are namespaced by it). */
export interface LocalApiTelemetry {
  relay: TelemetryRelay;
  partition: number;
}

const MAX_BODY = 64 * 1024;
/**
 * Telemetry requests of one partition being read or relayed at once; more get 429. Bounds
 * what one partition can make the agent hold (8 × 16 MiB); a forwarder's window is 4.
 */
export const MAX_TELEMETRY_IN_FLIGHT = 8;

/**
 * The HTTP status of every code a local API answers with (docs/errors.md); the one table
 * its errors are mapped by. Answers and errors are JSON.
 */
export const LOCAL_API_STATUS: Readonly<Record<string, number>> = {
  E_AGENT_API_INVALID: 400,
  E_AGENT_API_NOT_FOUND: 404,
  E_AGENT_API_TOO_LARGE: 413,
  E_AGENT_API_BUSY: 429,
  E_AGENT_SCHEMA_REFUSED: 422,
  E_AGENT_RELAY_REFUSED: 502,
  E_AGENT_RELAY_UNAVAILABLE: 503,
};

const publishBody = {
  title: "publish",
  type: "object",
  maxProperties: 256,
  propertyNames: { minLength: 1, maxLength: 128 },
  additionalProperties: { type: "string", maxLength: 4096 },
} as const;

const sent = (description: string, field: string) =>
  ({
    description,
    type: "object",
    required: [field],
    properties: { [field]: { type: "integer", description: "the partition's own id" } },
  }) as const;

/**
 * A partition's local API: HTTP on a unix socket only the partition's group (and root)
 * may connect to, JSON answers and errors (`{ "error": { "code", "message" } }`).
 * `GET /v1/instance` returns the instance's name, parameters and connection parameters;
 * `PUT /v1/publish` with a JSON object of strings adds to the connection parameters
 * reported to the master (a key published again is replaced). With `telemetry`,
 * `POST /v1/telemetry` (a chunk: its fields as the query, its body as the request body)
 * and `POST /v1/loss` (a loss event, JSON) are relayed and answered 200 only once the
 * master committed them (see TelemetryRelay); each post may carry its sender's backlog.
 * `POST /v1/schema?fingerprint=HEX` (the schema text as the body) relays the record
 * schema a fingerprint stands for the same way (422 when the master refuses it for good).
 * `GET /v1/openapi.json` describes all of it.
 */
export class LocalApi {
  private constructor(
    readonly socketPath: string,
    private readonly app: FastifyInstance,
  ) {}

  static async open(
    socketPath: string,
    gid: number | undefined,
    instance: LocalApiInstance,
    logger: Logger,
    telemetry?: LocalApiTelemetry,
  ): Promise<LocalApi> {
    // fastify loads with the first local API the agent opens, not with the agent.
    const { createHttpServer } = await import("../../common/http-server.js");
    const app = createHttpServer({
      statusByCode: LOCAL_API_STATUS,
      codes: {
        invalid: "E_AGENT_API_INVALID",
        notFound: "E_AGENT_API_NOT_FOUND",
        tooLarge: "E_AGENT_API_TOO_LARGE",
      },
      logger: logger.child({ instance: instance.name }),
      bodyLimit: MAX_BODY,
      openapi: {
        title: "Outpost partition local API",
        version: "1",
        description:
          "A partition's view of its instance, and its telemetry relay (agent/README.md)",
      },
    });
    // A body is JSON whatever the client calls it (curl -d sends a form type).
    app.addContentTypeParser(
      "*",
      { parseAs: "string" },
      app.getDefaultJsonParser("error", "error"),
    );
    app.get(
      "/v1/instance",
      {
        schema: {
          summary: "The instance's name, parameters and connection parameters",
          response: {
            200: {
              description: "",
              type: "object",
              required: ["name", "parameters", "connection"],
              properties: { name: { type: "string" }, parameters: {}, connection: {} },
            },
          },
        },
      },
      async () => ({
        name: instance.name,
        parameters: instance.parameters,
        connection: instance.connection(),
      }),
    );
    app.put<{ Body: Record<string, string> }>(
      "/v1/publish",
      {
        schema: {
          summary: "Add connection parameters (reported once the instance is ready)",
          body: publishBody,
          response: { 204: { description: "Published" } },
        },
      },
      async (request, reply) => {
        instance.publish(request.body);
        return reply.code(204).send();
      },
    );
    if (telemetry) registerTelemetry(app, instance, telemetry);
    rmSync(socketPath, { force: true });
    await app.listen({ path: socketPath });
    if (gid !== undefined) chownSync(socketPath, 0, gid);
    chmodSync(socketPath, 0o660);
    return new LocalApi(socketPath, app);
  }

  async close(): Promise<void> {
    await this.app.close();
    rmSync(this.socketPath, { force: true });
  }

  /** The framework's own listing of the routes it serves (a test checks the document by it). */
  routeTable(): string {
    return this.app.printRoutes({ commonPrefix: false });
  }
}

function registerTelemetry(
  app: FastifyInstance,
  instance: LocalApiInstance,
  { relay, partition }: LocalApiTelemetry,
): void {
  const backlog = new PartitionBacklog();
  const told = () => {
    const now = backlog.current(Date.now());
    if (now) instance.backlog(now);
  };
  let inFlight = 0;
  // Counted from the request's arrival, before its body is read, until it is answered.
  const admit = async (_request: FastifyRequest, reply: FastifyReply) => {
    if (inFlight >= MAX_TELEMETRY_IN_FLIGHT)
      throw new LocalApiBusyError(
        `more than ${MAX_TELEMETRY_IN_FLIGHT} telemetry requests in flight`,
      );
    inFlight++;
    reply.raw.once("close", () => inFlight--);
  };
  /** Relays one chunk or loss; the partition hanging up abandons the send to the master. */
  const relayed = async (
    reply: FastifyReply,
    query: BacklogQuery,
    carrying: { records: number; bytes: number; createdAt: number },
    send: (signal: AbortSignal) => Promise<void>,
  ) => {
    const waiting = backlogOfQuery(query);
    if (waiting) backlog.tell(waiting, Date.now());
    const end = backlog.start(carrying);
    told();
    const abandoned = new AbortController();
    reply.raw.once("close", () => {
      if (!reply.raw.writableFinished)
        abandoned.abort(new Error("the partition closed the request"));
    });
    let delivered = false;
    try {
      await send(abandoned.signal);
      delivered = true;
    } finally {
      end(delivered);
      told();
    }
  };

  app.register(async (raw) => {
    // The chunk's body is the records as the buffer holds them: taken as bytes, never decoded.
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) =>
      done(null, body),
    );
    raw.post<{ Querystring: ChunkQuery; Body: Buffer | undefined }>(
      "/v1/telemetry",
      {
        bodyLimit: MAX_TELEMETRY_BODY,
        onRequest: admit,
        schema: {
          summary: "Relay a sealed chunk to the master; answered once the master committed it",
          querystring: chunkQuerySchema,
          consumes: ["application/octet-stream"],
          response: { 200: sent("Committed by the master", "chunkId") },
        },
      },
      async (request, reply) => {
        const chunk: Chunk = chunkOfQuery(request.query, request.body ?? Buffer.alloc(0));
        if (chunk.lastSeq < chunk.firstSeq)
          throw new LocalApiInvalidError(
            `chunk: lastSeq ${chunk.lastSeq} is below firstSeq ${chunk.firstSeq}`,
          );
        const carrying = {
          records: chunk.records,
          bytes: chunk.body.length,
          createdAt: chunk.createdAt,
        };
        await relayed(reply, request.query, carrying, (signal) =>
          relay.relayChunk(partition, chunk, signal),
        );
        return { chunkId: chunk.chunkId };
      },
    );
    raw.post<{ Querystring: SchemaQuery; Body: Buffer | undefined }>(
      "/v1/schema",
      {
        bodyLimit: MAX_SCHEMA_BODY,
        onRequest: admit,
        schema: {
          summary:
            "Relay the record schema a chunk fingerprint stands for; answered once the master committed it",
          querystring: schemaQuerySchema,
          consumes: ["application/json"],
          response: {
            200: {
              description: "Committed by the master",
              type: "object",
              required: ["fingerprint"],
              properties: { fingerprint: { type: "string" } },
            },
          },
        },
      },
      async (request, reply) => {
        const schema = (request.body ?? Buffer.alloc(0)).toString("utf8");
        if (schema.length === 0) throw new LocalApiInvalidError("schema: the body is empty");
        const fingerprint = Buffer.from(request.query.fingerprint, "hex");
        let refused: string | undefined;
        await relayed(
          reply,
          {},
          { records: 0, bytes: 0, createdAt: Date.now() },
          async (signal) => {
            ({ refused } = await relay.relaySchema(partition, { fingerprint, schema }, signal));
          },
        );
        if (refused !== undefined) throw new RelaySchemaRefusedError(refused);
        return { fingerprint: request.query.fingerprint };
      },
    );
  });

  app.post<{ Querystring: BacklogQuery; Body: Loss }>(
    "/v1/loss",
    {
      onRequest: admit,
      schema: {
        summary: "Relay a loss event to the master; answered once the master committed it",
        querystring: backlogQuerySchema,
        body: lossBodySchema,
        response: { 200: sent("Committed by the master", "lossId") },
      },
    },
    async (request, reply) => {
      const loss = request.body;
      if (loss.toSeq < loss.fromSeq)
        throw new LocalApiInvalidError(
          `loss: toSeq ${loss.toSeq} is below fromSeq ${loss.fromSeq}`,
        );
      await relayed(reply, request.query, { records: 0, bytes: 0, createdAt: loss.at }, (signal) =>
        relay.relayLoss(partition, loss, signal),
      );
      return { lossId: loss.id };
    },
  );
}
