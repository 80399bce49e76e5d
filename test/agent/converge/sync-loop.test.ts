import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { loadOrCreateIdentity, type RunningAgent, startAgent } from "../../../agent/index.js";
import { generateKeyPair, type NodeRequest, ProtocolServer } from "../../../protocol/index.js";
import { until } from "../../helpers/until.js";

describe("sync loop against a master that refuses every report", function () {
  this.timeout(30_000);
  let tmp: string;
  let server: ProtocolServer;
  let agent: RunningAgent | undefined;
  const seen: NodeRequest["type"][] = [];

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-sync-loop-"));
    const nodeKey = loadOrCreateIdentity(join(tmp, "agent")).publicKey;
    const keyPair = generateKeyPair();
    server = await ProtocolServer.listen({
      endpoint: "tcp://127.0.0.1:*",
      keyPair,
      authorize: (key) => key === nodeKey,
      handle: async (request) => {
        seen.push(request.type);
        if (request.type === "hello") return { type: "welcome", name: "n1" };
        if (request.type === "sync") return { type: "desired", software: [], instances: [] };
        throw Object.assign(new Error("refused for the test"), { code: "E_TEST_REFUSED" });
      },
    });
    agent = await startAgent({
      data: join(tmp, "agent"),
      master: server.endpoint,
      masterKey: keyPair.publicKey,
      partitions: 1,
      agentVersion: "0.0.0-test",
      logger: pino({ level: "silent" }),
      isolated: false,
      syncInterval: 0.05,
    });
  });

  after(async () => {
    await agent?.shutdown();
    await server?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("retries a refused report with backoff, not once per pass", async () => {
    await until(() => seen.filter((t) => t === "sync").length >= 40, 20_000, "40 syncs");
    const reports = seen.filter((t) => t === "report").length;
    // 40 passes at 50 ms take ~2 s: backoff from 1 s (jittered) allows 2–4 tries, not 40.
    assert.ok(reports >= 1, "it did try");
    assert.ok(reports <= 4, `${reports} report attempts in 40 passes`);
  });
});

describe("sync loop woken by the master", function () {
  this.timeout(30_000);
  let tmp: string;
  let server: ProtocolServer;
  let agent: RunningAgent | undefined;
  let nodeKey: string;
  let syncs = 0;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-sync-wake-"));
    nodeKey = loadOrCreateIdentity(join(tmp, "agent")).publicKey;
    const keyPair = generateKeyPair();
    server = await ProtocolServer.listen({
      endpoint: "tcp://127.0.0.1:*",
      keyPair,
      authorize: (key) => key === nodeKey,
      handle: async (request) => {
        if (request.type === "hello") return { type: "welcome", name: "n1" };
        if (request.type === "sync") {
          syncs++;
          // A slow master: wakes arrive while a pass is in flight.
          await new Promise((r) => setTimeout(r, 100));
          return { type: "desired", software: [], instances: [] };
        }
        return { type: "ack" };
      },
    });
    agent = await startAgent({
      data: join(tmp, "agent"),
      master: server.endpoint,
      masterKey: keyPair.publicKey,
      partitions: 1,
      agentVersion: "0.0.0-test",
      logger: pino({ level: "silent" }),
      isolated: false,
      // Only a wake can make it sync again within the test.
      syncInterval: 60,
    });
    await until(() => agent?.loop.passes === 1, 10_000, "the first pass");
  });

  after(async () => {
    await agent?.shutdown();
    await server?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("syncs at once on a wake, and a burst of wakes makes at most one more sync", async () => {
    const before = syncs;
    assert.equal(server.wake(nodeKey), true);
    await until(() => syncs === before + 1, 2_000, "a sync right after the wake");
    // 50 wakes while that pass runs: one more pass, not 50.
    for (let i = 0; i < 50; i++) server.wake(nodeKey);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.ok(syncs - before <= 3, `${syncs - before} syncs for 51 wakes`);
    assert.ok(syncs - before >= 2, "the burst was not lost");
  });
});
