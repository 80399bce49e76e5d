import { strict as assert } from "node:assert";
import { createHttpServer, INTERNAL_ERROR } from "../../common/http-server.js";
import type { Logger } from "../../common/index.js";
import { operationsOf, routesOfTable } from "../helpers/route-table.js";

class CodedFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Keeps what was logged. */
function memoryLogger(events: { event: string; fields: object }[]): Logger {
  const log = (fields: object, event: string) => void events.push({ event, fields });
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

describe("common/http-server", () => {
  const events: { event: string; fields: object }[] = [];
  const app = createHttpServer({
    statusByCode: { E_T_INVALID: 400, E_T_MISSING: 404, E_T_BIG: 413, E_T_TAKEN: 409 },
    codes: { invalid: "E_T_INVALID", notFound: "E_T_MISSING", tooLarge: "E_T_BIG" },
    logger: memoryLogger(events),
    bodyLimit: 64,
    openapi: { title: "test", version: "1" },
  });
  app.post<{ Body: { name: string }; Querystring: { n?: number } }>(
    "/things",
    {
      schema: {
        summary: "Add a thing",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { n: { type: "integer", minimum: 0, description: "how many" } },
        },
        body: {
          title: "thing",
          type: "object",
          additionalProperties: false,
          required: ["name"],
          properties: {
            name: { type: "string", pattern: "^[a-z]+$", description: "lower-case letters" },
          },
        },
      },
    },
    async (request) => ({ name: request.body.name, n: request.query.n ?? null }),
  );
  app.get("/taken", async () => {
    throw new CodedFailure("E_T_TAKEN", "already taken");
  });
  app.get("/broken", async () => {
    throw new CodedFailure("E_SOMETHING_ELSE", "secret detail");
  });
  after(() => app.close());

  async function call(method: string, url: string, payload?: string) {
    const res = await app.inject({
      method: method as "GET",
      url,
      ...(payload === undefined
        ? {}
        : { payload, headers: { "content-type": "application/json" } }),
    });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  }

  it("answers a handler's error with the status its code has in the table", async () => {
    assert.deepEqual(await call("GET", "/taken"), {
      status: 409,
      body: { error: { code: "E_T_TAKEN", message: "already taken" } },
    });
  });

  it("answers an error whose code is not in the table 500 E_INTERNAL, logged, its message not shown", async () => {
    assert.deepEqual(await call("GET", "/broken"), {
      status: 500,
      body: { error: { code: INTERNAL_ERROR, message: "internal error" } },
    });
    assert.equal(events.at(-1)?.event, "http.failed");
  });

  it("refuses what does not match the route's schemas with the component's code, naming the field", async () => {
    const refused = async (url: string, payload: string) => {
      const r = await call("POST", url, payload);
      assert.equal(r.status, 400);
      return (r.body.error as { code: string; message: string }).message;
    };
    assert.equal(
      await refused("/things", '{"name":"A"}'),
      "thing: name: must be lower-case letters",
    );
    assert.equal(await refused("/things", '{"name":"a","x":1}'), "thing: unknown field 'x'");
    assert.equal(await refused("/things", "{}"), "thing: missing field 'name'");
    assert.equal(
      await refused("/things", '{"name":1}'),
      "thing: name: must be string (lower-case letters)",
    );
    assert.equal(await refused("/things", "{"), "body: not valid JSON");
    assert.equal(
      await refused("/things?n=-1", '{"name":"a"}'),
      "querystring: n: must be >= 0 (how many)",
    );
    assert.equal(await refused("/things?m=1", '{"name":"a"}'), "querystring: unknown field 'm'");
    // The query is coerced to its schema's types, the body never is.
    assert.deepEqual((await call("POST", "/things?n=3", '{"name":"a"}')).body, { name: "a", n: 3 });
  });

  it("answers a body over the limit 413 and an unknown path 404, whatever its body", async () => {
    assert.deepEqual(await call("POST", "/things", JSON.stringify({ name: "a".repeat(100) })), {
      status: 413,
      body: { error: { code: "E_T_BIG", message: "body larger than 64 bytes" } },
    });
    assert.deepEqual(await call("POST", "/nothing", "{"), {
      status: 404,
      body: { error: { code: "E_T_MISSING", message: "no such endpoint: POST /nothing" } },
    });
    assert.deepEqual(await call("GET", "/things/%E0%A4%A"), {
      status: 400,
      body: {
        error: { code: "E_T_INVALID", message: "path: '%E0%A4%A' is not valid percent-encoding" },
      },
    });
  });

  it("serves the OpenAPI document of exactly its routes", async () => {
    const doc = (await call("GET", "/v1/openapi.json")).body as {
      paths: Record<string, Record<string, { parameters?: { name: string }[] }>>;
    };
    assert.deepEqual(operationsOf(doc), routesOfTable(app.printRoutes({ commonPrefix: false })));
    assert.deepEqual(
      doc.paths["/things"]?.post?.parameters?.map((p) => p.name),
      ["n"],
    );
  });
});
