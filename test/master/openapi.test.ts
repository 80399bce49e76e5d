import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { HttpApi, MasterMetrics, SqliteStore } from "../../master/index.js";
import { operationsOf, routesOfTable } from "../helpers/route-table.js";

const TOKEN = "openapi-test-token";

describe("master HTTP API: /v1/openapi.json", () => {
  let dir: string;
  let store: SqliteStore;
  let api: HttpApi;
  let url: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "outpost-openapi-"));
    store = SqliteStore.open(join(dir, "master.db"));
    api = new HttpApi({
      store,
      adminToken: TOKEN,
      metrics: new MasterMetrics(),
      logger: pino({ level: "silent" }),
      lastSeen: () => undefined,
      linkBound: () => true,
      status: async () => ({
        at: 0,
        nodes: [],
        instances: [],
        telemetry: {} as never,
        readingCounts: [],
        decodeFailures: [],
        retention: null,
      }),
    });
    const address = await api.listen("127.0.0.1", 0);
    url = `http://127.0.0.1:${address.port}`;
  });

  after(async () => {
    await api.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string, token?: string) =>
    fetch(`${url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  it("documents every route the server holds, and only those", async () => {
    const res = await get("/v1/openapi.json", TOKEN);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    assert.equal(doc.openapi, "3.1.0");
    const served = routesOfTable(api.routeTable());
    assert.ok(served.length >= 14, served.join("\n"));
    assert.deepEqual(operationsOf(doc), served);
  });

  it("answers every documented operation from a route, not as an unknown path", async () => {
    const doc = (await (await get("/v1/openapi.json", TOKEN)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const op of operationsOf(doc)) {
      const [method, path] = op.split(" ") as [string, string];
      const controller = new AbortController();
      const res = await fetch(`${url}${path.replace(/\{[^}]+\}/g, "x")}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        ...(method === "POST" ? { body: "{}" } : {}),
        signal: controller.signal,
      });
      const text = res.headers.get("content-type")?.startsWith("text/event-stream")
        ? ""
        : await res.text();
      controller.abort();
      assert.doesNotMatch(text, /no such endpoint/, op);
    }
    const unknown = await get("/v1/nope", TOKEN);
    assert.deepEqual(
      [unknown.status, await unknown.json()],
      [404, { error: { code: "E_MASTER_NOT_FOUND", message: "no such endpoint: GET /v1/nope" } }],
    );
  });

  it("takes the route's JSON Schemas as they are: request bodies, queries, parameters", async () => {
    const doc = (await (await get("/v1/openapi.json", TOKEN)).json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown; parameters?: unknown[] }>>;
    };
    const request = doc.paths["/v1/instances"]?.post?.requestBody as {
      content: Record<string, { schema: { required: string[] } }>;
    };
    assert.deepEqual(request.content["application/json"]?.schema.required, ["name", "software"]);
    const query = doc.paths["/v1/telemetry"]?.get?.parameters as { name: string; in: string }[];
    assert.deepEqual(
      query.map((p) => `${p.in}:${p.name}`),
      ["query:node", "query:stream", "query:since", "query:limit", "query:withBody"],
    );
    assert.equal(
      (doc.paths["/v1/nodes/{name}"]?.get?.parameters?.[0] as { in?: string } | undefined)?.in,
      "path",
    );
  });

  it("needs the admin token like every route but the status page", async () => {
    const res = await get("/v1/openapi.json");
    assert.equal(res.status, 401);
    const doc = (await (await get("/v1/openapi.json", TOKEN)).json()) as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    assert.deepEqual(doc.paths["/"]?.get?.security, []);
    assert.equal(
      doc.paths["/v1/nodes"]?.get?.security,
      undefined,
      "the document's default: bearer",
    );
  });
});
