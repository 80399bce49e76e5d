import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { LocalApi, parsePublish } from "../../../agent/index.js";

function call(
  socketPath: string,
  method: string,
  path: string,
  body?: string,
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
  it("checks a publish body: a JSON object of bounded strings", () => {
    assert.deepEqual(parsePublish('{"admin":"http://127.0.1.1:8080"}'), {
      admin: "http://127.0.1.1:8080",
    });
    assert.equal(parsePublish("[1]"), "body must be a JSON object of strings");
    assert.equal(parsePublish('{"port":7000}'), "'port' must be a string");
    assert.equal(parsePublish("{"), "body is not JSON");
    assert.equal(parsePublish(`{"k":"${"x".repeat(5000)}"}`), "'k' is longer than 4096 characters");
  });

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
        backlog: () => assert.fail("no buffer route without the node's relay"),
      },
      pino({ level: "silent" }),
    );
    try {
      assert.equal(statSync(api.socketPath).mode & 0o777, 0o660);
      assert.equal((await call(api.socketPath, "PUT", "/v1/publish", '{"admin":"x"}')).status, 204);
      const bad = await call(api.socketPath, "PUT", "/v1/publish", '{"admin":1}');
      assert.deepEqual(
        [bad.status, JSON.parse(bad.body)],
        [400, { error: "'admin' must be a string" }],
      );
      const view = await call(api.socketPath, "GET", "/v1/instance");
      assert.deepEqual(JSON.parse(view.body), {
        name: "e1",
        parameters: { port: 7000 },
        connection: { url: "tcp://127.0.1.1:7000", admin: "x" },
      });
      assert.equal((await call(api.socketPath, "GET", "/nope")).status, 404);
      // Without the node's relay (PartitionOptions' telemetry) there is no telemetry route.
      assert.equal((await call(api.socketPath, "POST", "/v1/telemetry", "x")).status, 404);
      // Past the limit the body is still read, so the client gets the 413, not a reset.
      const huge = await call(api.socketPath, "PUT", "/v1/publish", "x".repeat(100_000));
      assert.deepEqual(
        [huge.status, JSON.parse(huge.body)],
        [413, { error: "body larger than 65536 bytes" }],
      );
      assert.equal((await call(api.socketPath, "PUT", "/v1/publish", '{"b":"y"}')).status, 204);
    } finally {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
