import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { loadOrCreateIdentity, type RunningAgent, startAgent } from "../../agent/index.js";
import {
  generateKeyPair,
  type NodeRequest,
  ProtocolServer,
  type ReplyBody,
} from "../../protocol/index.js";
import { until } from "../helpers/until.js";

/** Two masters of one fleet (one key pair), each recording what it was asked. */
interface FleetMaster {
  server: ProtocolServer;
  endpoint: string;
  seen: NodeRequest["type"][];
}

describe("agent failing over between two masters", function () {
  this.timeout(60_000);
  let tmp: string;
  let masters: FleetMaster[];
  let agent: RunningAgent | undefined;
  const logs: Record<string, unknown>[] = [];

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-agent-failover-"));
    const nodeKey = loadOrCreateIdentity(join(tmp, "agent")).publicKey;
    const keyPair = generateKeyPair();
    masters = await Promise.all(
      [0, 1].map(async () => {
        const seen: NodeRequest["type"][] = [];
        const server = await ProtocolServer.listen({
          endpoint: "tcp://127.0.0.1:*",
          keyPair,
          authorize: (key) => key === nodeKey,
          handle: async (request): Promise<ReplyBody> => {
            seen.push(request.type);
            if (request.type === "hello") return { type: "welcome", name: "n1" };
            if (request.type === "sync") return { type: "desired", software: [], instances: [] };
            return { type: "ack" };
          },
        });
        return { server, endpoint: server.endpoint, seen };
      }),
    );
    const lines = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString("utf8").split("\n"))
          if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    agent = await startAgent({
      data: join(tmp, "agent"),
      master: masters.map((m) => m.endpoint).join(","),
      masterKey: keyPair.publicKey,
      partitions: 1,
      agentVersion: "0.0.0-test",
      logger: pino({ level: "info" }, lines),
      isolated: false,
      // Passes far apart: a sync on the new master can only come from the failover.
      syncInterval: 600,
      metrics: "127.0.0.1:0",
    });
  });

  after(async () => {
    await agent?.shutdown();
    for (const m of masters ?? []) await m.server.close().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  });

  it("says hello to the new master and syncs at once, logs the move and counts it", async () => {
    await until(
      () => masters.some((m) => m.seen.includes("hello") && m.seen.includes("sync")),
      10_000,
      "the agent never reached a master",
    );
    const [gone, other] = masters[0]?.seen.includes("hello")
      ? (masters as [FleetMaster, FleetMaster])
      : ([masters[1], masters[0]] as [FleetMaster, FleetMaster]);
    const before = other.seen.length;
    const closedAt = Date.now();
    await gone.server.close();
    await until(
      () => other.seen.slice(before).join(",").startsWith("hello,sync"),
      15_000,
      `the other master saw ${other.seen.slice(before).join(",") || "nothing"}`,
    );
    assert.ok(Date.now() - closedAt < 15_000);
    const moves = logs.filter((l) => l.msg === "link.failover" && l.component === "control-link");
    assert.equal(moves.length, 1, JSON.stringify(moves));
    assert.deepEqual([moves[0]?.from, moves[0]?.to], [gone.endpoint, other.endpoint]);
    const metrics = await (await fetch(agent?.metricsUrl ?? "")).text();
    assert.match(metrics, /outpost_agent_link_failovers_total\{link="control"\} 1\n/);
    assert.match(metrics, /outpost_agent_link_failovers_total\{link="telemetry"\} [01]\n/);
  });
});
