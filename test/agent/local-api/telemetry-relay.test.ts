import { strict as assert } from "node:assert";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import {
  chunkQuery,
  LOCAL_ID_SPAN,
  LocalApiSink,
  loadOrCreateIdentity,
  MAX_TELEMETRY_BODY,
  MAX_TELEMETRY_IN_FLIGHT,
  partitionIdOf,
  type RunningAgent,
  relayedId,
  removeCgroupTree,
  removeSystemUser,
  startAgent,
} from "../../../agent/index.js";
import {
  DiskBuffer,
  encodeRecords,
  Forwarder,
  resolveConfig,
  scanFrames,
} from "../../../buffer/index.js";
import {
  encodeRecord,
  RECORD_SCHEMA,
  RECORD_SCHEMA_FINGERPRINT,
} from "../../../collector/record.js";
import {
  isPlaced,
  MasterClient,
  openDataDir,
  type RunningMaster,
  type StatusSnapshot,
  startMaster,
} from "../../../master/index.js";
import { Cgroup } from "../../../native/index.js";
import { collectPages } from "../../helpers/record-chunks.js";
import { repoRoot } from "../../helpers/run-outpost.js";
import { eventually } from "../../helpers/until.js";

const fixture = join(repoRoot, "test", "fixtures", "echo");
const logger = pino({ level: process.env.DEBUG_AGENT_LOG ?? "silent" });
/** Ids of chunks made by hand here, far above what partition 1's buffer reaches. */
const HAND_ID = 1_000_000;

interface Reply {
  status: number;
  type: string | undefined;
  body: Buffer;
}

/** One request on the unix socket, as a partition's process would make it. */
function post(
  socketPath: string,
  path: string,
  body: Buffer,
  method = "POST",
  type = "application/octet-stream",
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: { "content-type": type, "content-length": body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            type: res.headers["content-type"],
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.once("error", reject);
    req.end(body);
  });
}

/** A chunk as LocalApiSink posts it: its fields as the query, its body as the body. */
function postChunk(socketPath: string, chunk: ReturnType<typeof chunkOf>): Promise<Reply> {
  return post(socketPath, `/v1/telemetry?${chunkQuery(chunk)}`, chunk.body);
}

function postLoss(socketPath: string, loss: unknown): Promise<Reply> {
  return post(
    socketPath,
    "/v1/loss",
    Buffer.from(JSON.stringify(loss)),
    "POST",
    "application/json",
  );
}

/** The API's `{ error: { code, message } }` as `CODE: message`. */
function errorOf(reply: Reply): string {
  const { error } = JSON.parse(reply.body.toString("utf8")) as {
    error: { code: string; message: string };
  };
  return `${error.code}: ${error.message}`;
}

function chunkOf(stream: string, chunkId: number, payloads: string[], firstSeq = 0) {
  return {
    chunkId,
    stream,
    schema: Buffer.alloc(32, 7),
    createdAt: Date.now(),
    firstSeq,
    lastSeq: firstSeq + payloads.length - 1,
    records: payloads.length,
    compression: "none" as const,
    body: encodeRecords(
      payloads.map((p) => Buffer.from(p)),
      firstSeq,
    ),
  };
}

/**
 * Every record payload the master holds for `stream`, sorted: chunks in flight together
 * may arrive in any order (each carries its sequence numbers).
 */
async function storedPayloads(master: RunningMaster, stream: string): Promise<string[]> {
  const chunks = await master.store.queryChunks({ stream, withBody: true, limit: 100_000 });
  return chunks
    .flatMap((c) => {
      const body = Buffer.from(c.body);
      const scan = scanFrames(body, 0, 1 << 24);
      return scan.records.map((f) => body.subarray(f.payloadStart, f.payloadEnd).toString());
    })
    .sort();
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe("agent local API: telemetry relayed to the master", function () {
  this.timeout(20_000);
  let tmp: string;
  let master: RunningMaster;
  let client: MasterClient;
  let agent: RunningAgent | undefined;
  let parent: Cgroup;
  const parentName = `outpost-test-relay-${process.pid}`;
  /** Partition 1's local API: the buffer below forwards to it. */
  let socket: string;
  /** Partition 2's: `collector run` forwards its own buffer (own ids from 0) there. */
  let socket2: string;
  const userPrefix = `otr${randomBytes(3).toString("hex")}-`;
  const buildPrefix = `otrb${randomBytes(3).toString("hex")}`;
  // One forwarding buffer per instance: a second one would reuse its ids (see README).
  let partition1: { buffer: DiskBuffer; forwarder: Forwarder; sink: LocalApiSink } | undefined;
  let collector: ChildProcess | undefined;

  async function forwarding(dir: string, socketPath: string) {
    const config = resolveConfig({
      dir: join(tmp, dir),
      defaults: { sealAgeMs: 50, fsync: "batch" },
      forward: { window: 4, ackTimeoutMs: 5000, backoffBaseMs: 20, backoffCapMs: 200 },
    });
    const buffer = await DiskBuffer.open(config);
    const sink = new LocalApiSink(socketPath);
    const forwarder = new Forwarder(buffer, sink, config.forward);
    forwarder.start();
    return { buffer, forwarder, sink };
  }

  function restartMaster(listen: string): Promise<RunningMaster> {
    return startMaster({ data: join(tmp, "master"), listen, http: "127.0.0.1:0", logger });
  }

  before(async function () {
    this.timeout(60_000);
    tmp = mkdtempSync(join(tmpdir(), "outpost-telemetry-relay-"));
    chmodSync(tmp, 0o711);
    mkdirSync(join(tmp, "echo"));
    for (const f of ["software.yaml", "echo.tar.gz"])
      copyFileSync(join(fixture, f), join(tmp, "echo", f));
    const echoUrl = join(tmp, "echo", "software.yaml");
    parent = Cgroup.own().createChild(parentName);
    master = await restartMaster("tcp://127.0.0.1:*");
    client = new MasterClient(master.url, openDataDir(join(tmp, "master")).adminToken);
    const agentData = join(tmp, "agent");
    await client.addNode("n1", loadOrCreateIdentity(agentData).publicKey);
    agent = await startAgent({
      data: agentData,
      master: master.endpoint,
      masterKey: master.publicKey,
      partitions: 3,
      agentVersion: "0.0.0-test",
      logger,
      cgroupParent: parentName,
      userPrefix,
      buildAccountPrefix: buildPrefix,
      syncInterval: 0.2,
      stopTimeout: 2,
      relayTimeout: 1,
    });
    await eventually("the agent's hello", 10_000, async () =>
      (await client.listNodes())[0]?.partitions === 3 ? true : undefined,
    );
    await client.supply("n1", echoUrl);
    // The local API is served while an instance runs in the partition.
    await client.request({ name: "e1", software: echoUrl, parameters: { port: "7300" } });
    await client.request({ name: "e2", software: echoUrl, parameters: { port: "7301" } });
    const partitionOf = async (name: string) =>
      eventually(`${name} running`, 40_000, async () => {
        const { instance } = await client.show(name);
        return instance.status === "running" && isPlaced(instance)
          ? instance.partition + 1
          : undefined;
      });
    socket = join(agentData, "api", `p${await partitionOf("e1")}.sock`);
    socket2 = join(agentData, "api", `p${await partitionOf("e2")}.sock`);
    assert.deepEqual(
      [socket, socket2].map((p) => p.slice(-7)),
      ["p1.sock", "p2.sock"],
    );
    partition1 = await forwarding("buffer-1", socket);
  });

  after(async function () {
    this.timeout(30_000);
    collector?.kill("SIGKILL");
    if (partition1) {
      await partition1.forwarder.stop();
      await partition1.sink.close();
      await partition1.buffer.close();
    }
    await agent?.shutdown();
    await master?.close();
    if (parent) await removeCgroupTree(parent);
    for (const n of [1, 2, 3]) removeSystemUser(`${userPrefix}${n}`);
    rmSync(tmp, { recursive: true, force: true });
  });

  it("a partition's buffer, forwarded through LocalApiSink, reaches the master exactly once, chunk ids namespaced by partition", async () => {
    const buffer = partition1?.buffer as DiskBuffer;
    const sent: string[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const records = Array.from({ length: 25 }, (_, i) => `r${batch * 25 + i}`);
      sent.push(...records);
      await buffer.append(
        "relay-a",
        records.map((r) => Buffer.from(r)),
      );
      await new Promise((r) => setTimeout(r, 10));
    }
    await eventually("buffer drained", 10_000, () =>
      buffer.metrics().deliveredRecords === sent.length ? true : undefined,
    );
    assert.deepEqual(await storedPayloads(master, "relay-a"), [...sent].sort());
    const chunks = await master.store.queryChunks({ stream: "relay-a", limit: 100_000 });
    assert.ok(chunks.length >= 2, `${chunks.length} chunks`);
    for (const c of chunks) {
      assert.equal(c.node, "n1");
      assert.deepEqual(partitionIdOf(c.chunkId).partition, 1, `chunk id ${c.chunkId}`);
      assert.equal(partitionIdOf(c.chunkId).epoch, 0, `chunk id ${c.chunkId}`);
    }
    assert.equal(new Set(chunks.map((c) => c.chunkId)).size, chunks.length);
  });

  it("a schema defined on the buffer reaches the master through the relay before its chunks, which decode into readings", async () => {
    const buffer = partition1?.buffer as DiskBuffer;
    const text = JSON.stringify(RECORD_SCHEMA);
    await buffer.defineSchema(RECORD_SCHEMA_FINGERPRINT, text);
    const ts = Date.now();
    const records = Array.from({ length: 30 }, (_, i) => ({
      device: "relay-dev",
      tag: "energy",
      ts: ts + i,
      value: 2n ** 63n + BigInt(i),
      quality: "good",
    }));
    await buffer.append("relay-schema", records.map(encodeRecord), {
      schema: RECORD_SCHEMA_FINGERPRINT,
    });
    const got = await eventually("readings at the master", 10_000, async () => {
      const r = await collectPages(
        master.store.readingPages({ device: "relay-dev", from: ts, to: ts + 30 }),
      );
      return r.length === 30 ? r : undefined;
    });
    assert.deepEqual(
      got.map((r) => r.value),
      records.map((r) => r.value),
    );
    assert.deepEqual(await master.store.decodeFailures(), []);
    // The text is not what the fingerprint names: the master refuses it, through the relay.
    const refused = await post(
      socket,
      `/v1/schema?fingerprint=${"00".repeat(32)}`,
      Buffer.from(text),
      "POST",
      "application/json",
    );
    assert.equal(refused.status, 422);
    assert.match(
      errorOf(refused),
      /^E_AGENT_SCHEMA_REFUSED: .*its fingerprint is .*E_MASTER_SCHEMA/,
    );
  });

  it("a resent chunk or loss event is acked with the partition's own id and stored once", async () => {
    const chunk = chunkOf("relay-resend", HAND_ID + 7, ["x", "y", "z"]);
    for (let i = 0; i < 2; i++) {
      const reply = await postChunk(socket, chunk);
      assert.equal(reply.status, 200, reply.body.toString());
      assert.match(String(reply.type), /^application\/json/);
      assert.deepEqual(JSON.parse(reply.body.toString()), { chunkId: HAND_ID + 7 });
    }
    const stored = await master.store.queryChunks({ stream: "relay-resend" });
    assert.deepEqual(
      stored.map((c) => c.chunkId),
      [relayedId(1, 0, HAND_ID + 7)],
    );
    const loss = {
      id: HAND_ID + 3,
      stream: "relay-resend",
      reason: "overflow",
      chunkId: HAND_ID + 6,
      fromSeq: 0,
      toSeq: 4,
      records: 5,
      at: Date.now(),
    };
    for (let i = 0; i < 2; i++) {
      const reply = await postLoss(socket, loss);
      assert.equal(reply.status, 200, reply.body.toString());
      assert.deepEqual(JSON.parse(reply.body.toString()), { lossId: HAND_ID + 3 });
    }
    const losses = await master.store.queryLosses({ stream: "relay-resend" });
    assert.deepEqual(
      losses.map((l) => [l.lossId, l.chunkId, l.records]),
      [[relayedId(1, 0, HAND_ID + 3), relayedId(1, 0, HAND_ID + 6), 5]],
    );
  });

  it("answers malformed requests 400 and an oversized one 413 with the code and reason, and keeps relaying", async () => {
    const bare = await post(socket, "/v1/telemetry", Buffer.from([0xff, 0x00, 0x13]));
    assert.deepEqual(
      [bare.status, errorOf(bare)],
      [400, "E_AGENT_API_INVALID: chunk: missing field 'chunkId'"],
    );
    const wrongShape = await post(socket, "/v1/telemetry?chunkId=1", Buffer.from("x"));
    assert.deepEqual(
      [wrongShape.status, errorOf(wrongShape)],
      [400, "E_AGENT_API_INVALID: chunk: missing field 'stream'"],
    );
    const tooHigh = await postChunk(socket, chunkOf("relay-bad", LOCAL_ID_SPAN, ["a"]));
    assert.deepEqual(
      [tooHigh.status, errorOf(tooHigh)],
      [
        400,
        "E_AGENT_API_INVALID: chunk: chunkId: must be <= 17179869183 (below 2^34: the agent namespaces ids per partition and epoch)",
      ],
    );
    const backwards = await postChunk(socket, { ...chunkOf("relay-bad", 1, ["a"]), firstSeq: 5 });
    assert.deepEqual(
      [backwards.status, errorOf(backwards)],
      [400, "E_AGENT_API_INVALID: chunk: lastSeq 0 is below firstSeq 5"],
    );
    const badLoss = await postLoss(socket, { id: 1 });
    assert.deepEqual(
      [badLoss.status, errorOf(badLoss)],
      [400, "E_AGENT_API_INVALID: loss: missing field 'stream'"],
    );
    const notJson = await post(socket, "/v1/loss", Buffer.from("{"), "POST", "application/json");
    assert.deepEqual(
      [notJson.status, errorOf(notJson)],
      [400, "E_AGENT_API_INVALID: body: not valid JSON"],
    );
    const huge = await post(
      socket,
      `/v1/telemetry?${chunkQuery(chunkOf("relay-bad", 2, ["a"]))}`,
      Buffer.alloc(MAX_TELEMETRY_BODY + 1),
    );
    assert.deepEqual(
      [huge.status, errorOf(huge)],
      [413, `E_AGENT_API_TOO_LARGE: body larger than ${MAX_TELEMETRY_BODY} bytes`],
    );
    assert.equal((await post(socket, "/v1/telemetry", Buffer.alloc(0), "GET")).status, 404);
    const halfBacklog = await post(
      socket,
      `/v1/telemetry?${chunkQuery(chunkOf("relay-bad", 3, ["a"]))}&backlogRecords=-1`,
      Buffer.alloc(0),
    );
    assert.equal(halfBacklog.status, 400);
    assert.match(errorOf(halfBacklog), /backlogRecords/);
    const good = await postChunk(socket, chunkOf("relay-bad", HAND_ID + 1, ["ok"]));
    assert.equal(good.status, 200, good.body.toString());
    assert.deepEqual(await storedPayloads(master, "relay-bad"), ["ok"]);
  });

  it("answers 503 while the master is down; the forwarder's backlog arrives once it is back on the same port", async () => {
    const endpoint = master.endpoint;
    await master.close();
    const probe = chunkOf("relay-down", HAND_ID + 2, ["a"]);
    const down = await postChunk(socket, probe);
    assert.equal(down.status, 503);
    assert.match(
      errorOf(down),
      /^E_AGENT_RELAY_UNAVAILABLE: master unreachable: no reply from the master/,
    );
    // While relays wait, one partition holds at most MAX_TELEMETRY_IN_FLIGHT of them.
    const crowd = await Promise.all(
      Array.from({ length: MAX_TELEMETRY_IN_FLIGHT + 1 }, (_, i) =>
        postChunk(socket, chunkOf("relay-down", HAND_ID + 10 + i, ["c"])),
      ),
    );
    assert.deepEqual(crowd.map((r) => r.status).sort(), [
      429,
      ...Array(MAX_TELEMETRY_IN_FLIGHT).fill(503),
    ]);
    const buffer = partition1?.buffer as DiskBuffer;
    const before = buffer.metrics().deliveredRecords;
    const sent = Array.from({ length: 50 }, (_, i) => `o${i}`);
    await buffer.append(
      "relay-outage",
      sent.map((r) => Buffer.from(r)),
    );
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(buffer.metrics().deliveredRecords, before);
    // The forwarder's posts (retried while the master is down) carry the backlog: the
    // node knows it grows, and reports it once the master is back (it may have drained
    // by the first report: the minute's peak still shows it).
    master = await restartMaster(endpoint);
    client = new MasterClient(master.url, openDataDir(join(tmp, "master")).adminToken);
    const token = openDataDir(join(tmp, "master")).adminToken;
    const reported = async () => {
      const res = await fetch(`${master.url}/v1/status`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return ((await res.json()) as StatusSnapshot).telemetry.backlog.n1?.instances.e1;
    };
    const backlog = await eventually(
      "the outage backlog on the master's status",
      10_000,
      async () => {
        const b = await reported();
        return b && b.peakRecords >= sent.length ? b : undefined;
      },
    );
    assert.ok(backlog.peakRecords >= sent.length, `peak ${backlog.peakRecords} reported`);
    await eventually("backlog delivered", 10_000, () =>
      buffer.metrics().deliveredRecords === before + sent.length ? true : undefined,
    );
    assert.deepEqual(await storedPayloads(master, "relay-outage"), [...sent].sort());
    // Drained: the report says so, and its peak still shows what the outage built up.
    const drained = await eventually("the drained backlog reported", 10_000, async () => {
      const b = await reported();
      return b && b.records < sent.length ? b : undefined;
    });
    assert.ok(drained.peakRecords >= sent.length, `peak ${drained.peakRecords}`);
    // A 503 promises nothing either way (the request may have left before the link
    // dropped): the partition resends, and the master keeps one copy.
    const resent = await postChunk(socket, probe);
    assert.equal(resent.status, 200, resent.body.toString());
    const down2 = await master.store.queryChunks({ stream: "relay-down" });
    assert.ok(down2.some((c) => c.chunkId === relayedId(1, 0, HAND_ID + 2)));
    assert.equal(new Set(down2.map((c) => c.chunkId)).size, down2.length);
  });

  it("`collector run` with `output.forward: agent` in the partition sends its records to the master", async () => {
    const port = await closedPort();
    const config = join(tmp, "collector.yaml");
    writeFileSync(
      config,
      [
        `dataDir: ${join(tmp, "collector")}`,
        "devices:",
        "  - name: dead",
        "    interval: 200ms",
        `    modbus: { tcp: "127.0.0.1:${port}", timeout: 200ms }`,
        "    tags:",
        "      - { name: wind, register: holding, address: 0, type: float32 }",
        `output: { buffer: ${join(tmp, "collector-buffer")}, stream: relay-collector, forward: agent }`,
        "",
      ].join("\n"),
    );
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(repoRoot, "cli", "main.ts"), "collector", "run", "--config", config],
      {
        cwd: repoRoot,
        env: { ...process.env, OUTPOST_API: socket2 },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    collector = child;
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    const records = await eventually(
      "collector records at the master",
      15_000,
      async () => {
        // Decoded at the master: the collector's forwarder gave it the schema first.
        const found = await collectPages(
          master.store.readingPages({ device: "dead", from: 0, to: 2 ** 52, anyQuality: true }),
        );
        const chunks = await master.store.queryChunks({ stream: "relay-collector" });
        return found.length > 0 ? { found, chunks } : undefined;
      },
      200,
    );
    child.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);
    collector = undefined;
    assert.ok(records.found.every((r) => r.device === "dead" && r.tag === "wind"));
    assert.ok(records.found.some((r) => r.quality === "comm_error"));
    assert.ok(records.chunks.every((c) => partitionIdOf(c.chunkId).partition === 2));
    assert.match(stderr, /"collector.stopped"/);
  });
  it("a new instance in a reset partition counts ids from 0 again and the master keeps its data (new epoch)", async function () {
    this.timeout(60_000);
    if (partition1) {
      await partition1.forwarder.stop();
      await partition1.sink.close();
      await partition1.buffer.close();
      partition1 = undefined;
    }
    await client.destroy("e1");
    // The master forgets the instance once the agent reports it destroyed.
    await eventually("e1 gone", 20_000, async () =>
      client.show("e1").then(
        () => undefined,
        (err: { code?: string }) => (err.code === "E_MASTER_NOT_FOUND" ? true : undefined),
      ),
    );
    const echoUrl = join(tmp, "echo", "software.yaml");
    await client.request({ name: "e3", software: echoUrl, parameters: { port: "7302" } });
    const partition = await eventually("e3 running", 40_000, async () => {
      const { instance } = await client.show("e3");
      return instance.status === "running" && isPlaced(instance)
        ? instance.partition + 1
        : undefined;
    });
    assert.equal(partition, 1, "e3 reuses e1's partition");
    // The same local id e1's buffer used, as a fresh buffer would send it.
    const reply = await postChunk(socket, chunkOf("relay-resend", HAND_ID + 7, ["after-redeploy"]));
    assert.equal(reply.status, 200, reply.body.toString());
    const stored = await master.store.queryChunks({ stream: "relay-resend" });
    assert.deepEqual(
      stored.map((c) => c.chunkId).sort((a, b) => a - b),
      [relayedId(1, 0, HAND_ID + 7), relayedId(1, 1, HAND_ID + 7)],
    );
    assert.deepEqual((await storedPayloads(master, "relay-resend")).sort(), [
      "after-redeploy",
      "x",
      "y",
      "z",
    ]);
  });
});
