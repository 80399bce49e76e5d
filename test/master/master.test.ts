import { strict as assert } from "node:assert";
import { chmodSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  MasterClient,
  openDataDir,
  parseRetention,
  type StatusSnapshot,
} from "../../master/index.js";
import { generateKeyPair } from "../../protocol/index.js";
import {
  collectPages,
  RECORD_SCHEMA_FINGERPRINT,
  RECORD_SCHEMA_TEXT,
  recordChunk,
} from "../helpers/record-chunks.js";
import { chunk, hello, MasterHarness } from "./master-harness.js";

const echo = "https://example.org/echo/software.yaml";

describe("master", () => {
  let h: MasterHarness;
  beforeEach(async () => {
    h = await new MasterHarness().start();
  });
  afterEach(async () => h.close());

  it("registers a node on hello and gives it its desired state on sync", async () => {
    const keys = await h.addNode("gw-1");
    const link = h.link(keys);
    assert.equal((await link.hello(hello)).name, "gw-1");
    await h.client.supply("gw-1", echo);
    const placed = await h.client.request({
      name: "echo-1",
      software: echo,
      parameters: { port: "7000" },
    });
    assert.equal(placed.node, "gw-1");
    const desired = await link.sync();
    assert.deepEqual(desired.software, [echo]);
    assert.deepEqual(desired.instances, [
      {
        name: "echo-1",
        software: echo,
        parameters: { port: "7000" },
        partition: 0,
        cores: [],
        state: "started",
      },
    ]);
    const [node] = await h.client.listNodes();
    assert.equal(node?.partitions, 2);
    assert.deepEqual(node?.isolatedCores, [2, 3]);
  });

  it("admits only node keys added through the API: a stranger's hello is never answered", async () => {
    const stranger = generateKeyPair();
    await assert.rejects(h.link(stranger, 3_000).hello(hello), (err: Error & { code?: string }) => {
      assert.equal(err.code, "E_PROTOCOL_TIMEOUT");
      assert.match(err.message, /master refused this node's key/);
      return true;
    });
    assert.deepEqual(await h.client.listNodes(), [], "it did not register itself");
    const denied = await h.master.metrics.registry.getSingleMetricAsString(
      "outpost_master_connections_denied_total",
    );
    assert.match(denied, /outpost_master_connections_denied_total [1-9]/);
    const accepted = await h.master.metrics.registry.getSingleMetricAsString(
      "outpost_master_messages_total",
    );
    assert.doesNotMatch(accepted, /type="/, "not one message was accepted");
  });

  it("stores a node's report: status, promises, connection parameters and usage", async () => {
    const keys = await h.addNode("gw-1");
    const link = h.link(keys);
    await link.hello(hello);
    await h.client.supply("gw-1", echo);
    await h.client.request({ name: "echo-1", software: echo, parameters: {} });
    await link.report({
      instances: [
        {
          name: "echo-1",
          status: "running",
          promises: [{ name: "listening", ok: true, checkedAt: 1 }],
          connection: { url: "tcp://127.0.1.1:7000" },
          secrets: { software: echo, parameters: [], connection: [] },
        },
      ],
      usage: [{ instance: "echo-1", from: 0, to: 60_000, cpuSeconds: 0.25, memoryPeakBytes: 4096 }],
    });
    const shown = await h.client.show("echo-1");
    assert.equal(shown.instance.status, "running");
    assert.deepEqual(shown.instance.connection, { url: "tcp://127.0.1.1:7000" });
    assert.equal(shown.usage[0]?.cpuSeconds, 0.25);

    await h.client.destroy("echo-1");
    assert.equal((await link.sync()).instances[0]?.state, "destroyed");
    await link.report({
      instances: [{ name: "echo-1", status: "destroyed", promises: [], connection: {} }],
      usage: [],
    });
    await assert.rejects(h.client.show("echo-1"), { code: "E_MASTER_NOT_FOUND" });
  });

  it("stores a resent chunk exactly once and acks every copy, even sent concurrently", async () => {
    const keys = await h.addNode("gw-1");
    const link = h.link(keys);
    const acks = await Promise.all([link.send(chunk(1)), link.send(chunk(1)), link.send(chunk(2))]);
    assert.deepEqual(
      acks.map((a) => a.chunkId),
      [1, 1, 2],
    );
    assert.deepEqual(acks.map((a) => a.duplicate).sort(), [false, false, true]);
    assert.deepEqual(await link.send(chunk(1)), { chunkId: 1, duplicate: true });
    const answer = await h.client.telemetry({ node: "gw-1" });
    assert.deepEqual(
      answer.chunks.map((c) => c.chunkId),
      [1, 2],
    );
    const metrics = await (
      await fetch(`${h.master.url}/metrics`, {
        headers: { authorization: `Bearer ${openDataDir(h.dir).adminToken}` },
      })
    ).text();
    assert.match(metrics, /outpost_master_telemetry_chunks_total\{result="stored"\} 2/);
    assert.match(metrics, /outpost_master_telemetry_chunks_total\{result="duplicate"\} 2/);
    assert.match(metrics, /outpost_master_telemetry_records_total 20/);
    // Counted in the store when scraped: what every master sharing it says alike.
    const nodes = (await h.client.listNodes()).length;
    assert.ok(nodes >= 1);
    assert.match(metrics, new RegExp(`^outpost_master_nodes ${nodes}$`, "m"));
  });

  it("shows sequence gaps, marked reported when the node's loss events cover them", async () => {
    const keys = await h.addNode("gw-1");
    const link = h.link(keys);
    await link.send(chunk(0, 0));
    await link.send(chunk(2, 20));
    await link.send(chunk(5, 50));
    await link.sendLoss({
      id: 1,
      stream: "turbine",
      reason: "overflow",
      chunkId: 1,
      fromSeq: 10,
      toSeq: 19,
      records: 10,
      at: Date.now(),
    });
    const { gaps, losses } = await h.client.telemetry({ stream: "turbine" });
    assert.deepEqual(gaps, [
      { node: "gw-1", stream: "turbine", fromSeq: 10, toSeq: 19, reported: true },
      { node: "gw-1", stream: "turbine", fromSeq: 30, toSeq: 49, reported: false },
    ]);
    assert.equal(losses.length, 1);
  });

  it("keeps all state across a restart: keys, nodes, instances, telemetry dedupe", async () => {
    const keys = await h.addNode("gw-1");
    const before = h.master.publicKey;
    await h.link(keys).hello(hello);
    await h.client.supply("gw-1", echo);
    await h.client.request({ name: "echo-1", software: echo, parameters: { a: "b" } });
    await h.link(keys).send(chunk(7));
    await h.restart();
    assert.equal(h.master.publicKey, before, "same master key");
    const link = h.link(keys);
    assert.equal((await link.hello(hello)).name, "gw-1", "the node key is still admitted");
    assert.deepEqual(
      (await link.sync()).instances.map((i) => i.name),
      ["echo-1"],
    );
    assert.deepEqual(await link.send(chunk(7)), { chunkId: 7, duplicate: true });
    assert.deepEqual((await link.sync()).instances[0]?.parameters, { a: "b" });
  });

  it("applies its retention policy: deleted rows in its metrics and its status, rollups answering", async () => {
    await h.close();
    h = await new MasterHarness().start({ retention: parseRetention(["*:1d:30d"]) });
    const old = Math.floor((Date.now() - 2 * 86_400_000) / 60_000) * 60_000;
    const { store } = h.master;
    await store.addSchema(RECORD_SCHEMA_FINGERPRINT, RECORD_SCHEMA_TEXT, old);
    const records = [1, 2, 3].map((v, i) => ({
      device: "d",
      tag: "t",
      ts: old + i * 1_000,
      value: v,
      quality: "good",
    }));
    await store.ingestChunks([recordChunk("gw-1", 1, records, { receivedAt: old })]);
    const result = await h.master.retention.run();
    assert.deepEqual(result, {
      readings: 3,
      rollups: 0,
      chunkBodies: 0,
      series: 0,
      complete: true,
    });
    const metrics = await h.master.metrics.registry.metrics();
    assert.match(metrics, /^outpost_master_retention_deleted_total\{what="readings"\} 3$/m);
    assert.match(metrics, /^outpost_master_retention_run_seconds_count 1$/m);
    const status = await fetch(`${h.master.url}/v1/status`, {
      headers: { authorization: `Bearer ${openDataDir(h.dir).adminToken}` },
    });
    assert.equal(((await status.json()) as StatusSnapshot).retention?.readings, 3);
    assert.deepEqual(await collectPages(store.readingPages({ from: 0, to: 2 ** 52 })), []);
    const answer = await h.client.readings({ from: old, to: old + 60_000, step: "1m", agg: "avg" });
    assert.deepEqual(answer.series[0]?.points, [[old, 2, 3]]);
  });

  it("never shows a secret value: masked in every answer, every value until the node said which keys are secret", async () => {
    const keys = await h.addNode("gw-1");
    const link = h.link(keys);
    await link.hello(hello);
    await h.client.supply("gw-1", echo);
    const token = openDataDir(h.dir).adminToken;
    const raw = async (path: string) =>
      (
        await fetch(`${h.master.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
      ).text();
    const answers = async () =>
      [
        JSON.stringify(await h.client.show("db")),
        await raw("/v1/instances"),
        await raw("/v1/status"),
      ].join("\n");
    const placed = await h.client.request({
      name: "db",
      software: echo,
      parameters: { port: "7000", password: "hunter2-db", token: "tok-by-flag" },
      secrets: ["token"],
    });
    assert.deepEqual(placed.parameters, {
      port: "********",
      password: "********",
      token: "********",
    });
    assert.doesNotMatch(
      await answers(),
      /7000|hunter2-db|tok-by-flag/,
      "all masked before any report",
    );
    // The node needs the real values.
    assert.equal((await link.sync()).instances[0]?.parameters.password, "hunter2-db");

    const report = (software: string) =>
      link.report({
        instances: [
          {
            name: "db",
            status: "running",
            promises: [],
            connection: { url: "tcp://127.0.1.1:7000", dsn: "db://u:hunter2-db@x" },
            secrets: { software, parameters: ["password"], connection: ["dsn"] },
          },
        ],
        usage: [],
      });
    await report("https://example.org/other.yaml");
    assert.doesNotMatch(
      await answers(),
      /7000|hunter2-db|tok-by-flag/,
      "keys read from another release are not taken",
    );
    await report(echo);
    const shown = (await h.client.show("db")).instance;
    assert.deepEqual(shown.parameters, { port: "7000", password: "********", token: "********" });
    assert.deepEqual(shown.connection, { url: "tcp://127.0.1.1:7000", dsn: "********" });
    assert.doesNotMatch(await answers(), /hunter2-db|tok-by-flag/);
    const events = await fetch(`${h.master.url}/v1/events`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const reader = events.body?.getReader();
    const first = new TextDecoder().decode((await reader?.read())?.value);
    await reader?.cancel();
    assert.match(first, /event: status/);
    assert.match(first, /"password":"\*{8}"/);
    assert.doesNotMatch(first, /hunter2-db|tok-by-flag/);
    // A re-request without --secret keeps the mark; the destroy answer is masked too.
    await h.client.request({
      name: "db",
      software: echo,
      parameters: { port: "7000", password: "hunter2-db", token: "tok-by-flag" },
    });
    assert.equal((await h.client.show("db")).instance.parameters.token, "********");
    assert.doesNotMatch(JSON.stringify(await h.client.destroy("db")), /hunter2-db|tok-by-flag/);
  });

  it("answers 401 without the admin token or with a wrong one, on every endpoint", async () => {
    for (const path of ["/v1/nodes", "/v1/instances/x", "/v1/telemetry", "/metrics"]) {
      const none = await fetch(`${h.master.url}${path}`);
      assert.equal(none.status, 401, path);
      assert.equal(
        ((await none.json()) as { error: { code: string } }).error.code,
        "E_MASTER_UNAUTHORIZED",
      );
      const wrong = await fetch(`${h.master.url}${path}`, {
        headers: { authorization: "Bearer nope" },
      });
      assert.equal(wrong.status, 401, path);
    }
    const post = await fetch(`${h.master.url}/v1/nodes`, {
      method: "POST",
      body: JSON.stringify({ name: "x", publicKey: "y" }),
    });
    assert.equal(post.status, 401);
    assert.deepEqual(await h.client.listNodes(), [], "nothing was added");
  });

  it("refuses bad API input with E_MASTER_INVALID naming the field", async () => {
    await assert.rejects(h.client.addNode("Bad Name", "x".repeat(40)), {
      code: "E_MASTER_INVALID",
      message: /node: name: must be 1-63 characters/,
    });
    await assert.rejects(h.client.addNode("gw-1", "short"), {
      code: "E_MASTER_INVALID",
      message: /publicKey: must be a 40-character Z85 CURVE public key/,
    });
    await assert.rejects(
      h.client.request({ name: "e", software: echo, parameters: { p: 1 as unknown as string } }),
      {
        code: "E_MASTER_INVALID",
        message: /request: parameters.p: must be string/,
      },
    );
    const badPath = await fetch(`${h.master.url}/v1/instances/%E0%A4%A`, {
      headers: { authorization: `Bearer ${openDataDir(h.dir).adminToken}` },
    });
    assert.equal(badPath.status, 400);
    assert.deepEqual(await badPath.json(), {
      error: {
        code: "E_MASTER_INVALID",
        message: "path: '%E0%A4%A' is not valid percent-encoding",
      },
    });
    await assert.rejects(h.client.telemetry({ since: -1 }), {
      code: "E_MASTER_INVALID",
      message: /since/,
    });
  });

  it("keeps its secrets mode 0600 in a 0700 directory, and refuses a readable secret", async () => {
    assert.equal(statSync(h.dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(h.dir, "master.key")).mode & 0o777, 0o600);
    assert.equal(statSync(join(h.dir, "admin.token")).mode & 0o777, 0o600);
    chmodSync(join(h.dir, "admin.token"), 0o644);
    assert.throws(() => openDataDir(h.dir), {
      code: "E_MASTER_DATA_DIR",
      message: /admin.token: is readable by group or others \(mode 0644\); run chmod 600/,
    });
    writeFileSync(join(h.dir, "admin.token"), "x\n", { mode: 0o600 });
    chmodSync(join(h.dir, "admin.token"), 0o600);
    assert.throws(() => openDataDir(h.dir), {
      code: "E_MASTER_DATA_DIR",
      message: /shorter than 16/,
    });
  });

  it("reports an unreachable master as E_MASTER_UNREACHABLE", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const client = new MasterClient(`http://127.0.0.1:${port}`, "token");
    await assert.rejects(client.listNodes(), {
      code: "E_MASTER_UNREACHABLE",
      message: /ECONNREFUSED/,
    });
  });
});
