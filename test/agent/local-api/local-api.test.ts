import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import {
  chunkQuery,
  LocalApi,
  type LocalApiInstance,
  TelemetryRelay,
  type TelemetryUplink,
} from "../../../agent/index.js";
import { encodeRecords } from "../../../buffer/index.js";
import type { Backlog } from "../../../protocol/index.js";
import { operationsOf, routesOfTable } from "../../helpers/route-table.js";

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check());
}

function call(
  socketPath: string,
  method: string,
  path: string,
  body?: string | Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => {
        text += c.toString("utf8");
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.once("error", reject);
    req.end(body);
  });
}

describe("partition local API", () => {
  it("serves the instance's view and takes published values over its unix socket (0660)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "outpost-agent-api-"));
    let published: Record<string, string> = {};
    const api = await LocalApi.open(
      join(dir, "p1.sock"),
      undefined,
      {
        name: "e1",
        parameters: { port: 7000 },
        connection: () => ({ url: "tcp://127.0.1.1:7000", ...published }),
        publish: (values) => {
          published = { ...published, ...values };
        },
        backlog: () => assert.fail("no telemetry route without the node's relay"),
      },
      pino({ level: "silent" }),
    );
    try {
      assert.equal(statSync(api.socketPath).mode & 0o777, 0o660);
      assert.equal((await call(api.socketPath, "PUT", "/v1/publish", '{"admin":"x"}')).status, 204);
      // A publish body is a JSON object of bounded strings; anything else is refused
      // with the code and the reason, and nothing of it is published.
      const refused = async (body: string) => {
        const r = await call(api.socketPath, "PUT", "/v1/publish", body);
        const { error } = JSON.parse(r.body) as { error: { code: string; message: string } };
        assert.equal(r.status, 400, body);
        assert.equal(error.code, "E_AGENT_API_INVALID");
        return error.message;
      };
      assert.equal(await refused('{"admin":1}'), "publish: admin: must be string");
      assert.equal(await refused("[1]"), "publish: must be object");
      assert.equal(await refused("{"), "body: not valid JSON");
      assert.equal(
        await refused(`{"k":"${"x".repeat(5000)}"}`),
        "publish: k: must NOT have more than 4096 characters",
      );
      assert.match(
        await refused(
          JSON.stringify(Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`k${i}`, ""]))),
        ),
        /^publish: must NOT have more than 256 properties/,
      );
      const view = await call(api.socketPath, "GET", "/v1/instance");
      assert.deepEqual(JSON.parse(view.body), {
        name: "e1",
        parameters: { port: 7000 },
        connection: { url: "tcp://127.0.1.1:7000", admin: "x" },
      });
      const nope = await call(api.socketPath, "GET", "/nope");
      assert.deepEqual(
        [nope.status, JSON.parse(nope.body)],
        [404, { error: { code: "E_AGENT_API_NOT_FOUND", message: "no such endpoint: GET /nope" } }],
      );
      // Without the node's relay (PartitionOptions' telemetry) there is no telemetry route.
      assert.equal((await call(api.socketPath, "POST", "/v1/telemetry", "x")).status, 404);
      // Past the limit the body is still read, so the client gets the 413, not a reset.
      const huge = await call(api.socketPath, "PUT", "/v1/publish", "x".repeat(100_000));
      assert.deepEqual(
        [huge.status, JSON.parse(huge.body)],
        [
          413,
          { error: { code: "E_AGENT_API_TOO_LARGE", message: "body larger than 65536 bytes" } },
        ],
      );
      assert.equal((await call(api.socketPath, "PUT", "/v1/publish", '{"b":"y"}')).status, 204);
    } finally {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("with the node's relay", () => {
    let dir: string;
    let api: LocalApi;
    const told: Backlog[] = [];
    /** Answers held until released: an ack once the master committed, or its failure. */
    const pending: ((failure?: Error) => void)[] = [];
    /** Schemas the master was given: [fingerprint hex, text]. */
    const schemas: [string, string][] = [];
    const uplink: TelemetryUplink = {
      send: (chunk) =>
        new Promise((resolve, reject) =>
          pending.push((failure) =>
            failure ? reject(failure) : resolve({ chunkId: chunk.chunkId, duplicate: false }),
          ),
        ),
      sendLoss: async (loss) => ({ lossId: loss.id }),
      sendSchema: async ({ fingerprint, schema }) => {
        schemas.push([Buffer.from(fingerprint).toString("hex"), schema]);
        return schema === "refuse me" ? { refused: "schema refused: too deep" } : {};
      },
    };
    const instance: LocalApiInstance = {
      name: "e1",
      parameters: {},
      connection: () => ({}),
      publish: () => undefined,
      backlog: (b) => {
        told.push(b);
      },
    };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "outpost-agent-api-"));
      const relay = new TelemetryRelay(uplink, pino({ level: "silent" }), () => 0);
      api = await LocalApi.open(
        join(dir, "p1.sock"),
        undefined,
        instance,
        pino({ level: "silent" }),
        {
          relay,
          partition: 1,
        },
      );
    });

    after(async () => {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("documents every route it serves at /v1/openapi.json, and only those", async () => {
      const res = await call(api.socketPath, "GET", "/v1/openapi.json");
      const doc = JSON.parse(res.body) as { paths: Record<string, Record<string, unknown>> };
      const served = routesOfTable(api.routeTable());
      assert.deepEqual(operationsOf(doc), served);
      assert.deepEqual(served, [
        "GET /v1/instance",
        "GET /v1/openapi.json",
        "POST /v1/loss",
        "POST /v1/schema",
        "POST /v1/telemetry",
        "PUT /v1/publish",
      ]);
    });

    it("relays a schema's text as it is, answers 422 when the master refuses it, 400 without a fingerprint", async () => {
      const text = '{"type":"record","name":"R","fields":[{"name":"x","type":"long"}]}';
      const ok = await call(api.socketPath, "POST", "/v1/schema?fingerprint=0a0b", text);
      assert.deepEqual([ok.status, JSON.parse(ok.body)], [200, { fingerprint: "0a0b" }]);
      assert.deepEqual(schemas.at(-1), ["0a0b", text]);
      const refused = await call(api.socketPath, "POST", "/v1/schema?fingerprint=0c", "refuse me");
      assert.equal(refused.status, 422);
      assert.deepEqual(JSON.parse(refused.body).error, {
        code: "E_AGENT_SCHEMA_REFUSED",
        message: "schema refused: too deep",
      });
      for (const path of [
        "/v1/schema",
        "/v1/schema?fingerprint=XYZ",
        "/v1/schema?fingerprint=0a",
      ]) {
        const bad = await call(api.socketPath, "POST", path, path.endsWith("0a") ? "" : text);
        assert.equal(bad.status, 400, path);
        assert.equal(JSON.parse(bad.body).error.code, "E_AGENT_API_INVALID");
      }
      assert.equal(schemas.length, 2, "nothing invalid was relayed");
    });

    it("counts a post's backlog plus what it relays, and what failed to relay until the next post", async () => {
      const chunk = {
        chunkId: 1,
        stream: "s",
        schema: Buffer.alloc(32),
        createdAt: Date.now() - 5000,
        firstSeq: 1,
        lastSeq: 3,
        records: 3,
        compression: "none" as const,
        body: encodeRecords([Buffer.from("a"), Buffer.from("b"), Buffer.from("c")], 1),
      };
      const waiting = { records: 10, bytes: 1000, oldestAgeMs: 2000 };
      const posted = call(
        api.socketPath,
        "POST",
        `/v1/telemetry?${chunkQuery(chunk, waiting)}`,
        chunk.body,
      );
      await until(() => pending.length === 1);
      // Waiting behind it, plus the chunk being relayed (the oldest: 5 s).
      const relaying = told.at(-1);
      assert.equal(relaying?.records, 13);
      assert.equal(relaying?.bytes, 1000 + chunk.body.length);
      assert.ok((relaying?.oldestAgeMs ?? 0) >= 5000);
      pending.shift()?.();
      const answer = await posted;
      assert.deepEqual([answer.status, JSON.parse(answer.body)], [200, { chunkId: 1 }]);
      assert.equal(told.at(-1)?.records, 10, "delivered: only what waited behind it");
      // Not delivered: the forwarder queues it again, so it still waits.
      const again = call(
        api.socketPath,
        "POST",
        `/v1/telemetry?${chunkQuery(chunk, waiting)}`,
        chunk.body,
      );
      await until(() => pending.length === 1);
      pending.shift()?.(
        Object.assign(new Error("no reply from the master"), { code: "E_PROTOCOL_TIMEOUT" }),
      );
      const refused = await again;
      assert.equal(refused.status, 503);
      assert.equal(JSON.parse(refused.body).error.code, "E_AGENT_RELAY_UNAVAILABLE");
      assert.equal(told.at(-1)?.records, 13);
      // The next post says what waits now: nothing behind it, nothing relayed.
      const drained = call(
        api.socketPath,
        "POST",
        `/v1/telemetry?${chunkQuery(chunk, { records: 0, bytes: 0, oldestAgeMs: 0 })}`,
        chunk.body,
      );
      await until(() => pending.length === 1);
      pending.shift()?.();
      assert.equal((await drained).status, 200);
      assert.deepEqual(told.at(-1), { records: 0, bytes: 0, oldestAgeMs: 0 });
    });
  });
});
