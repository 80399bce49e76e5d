import { strict as assert } from "node:assert";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RECORD_SCHEMA, RECORD_SCHEMA_FINGERPRINT } from "../../collector/record.js";
import { DEFAULT_HTTP, DEFAULT_LISTEN } from "../../master/index.js";
import { generateKeyPair, NodeLink } from "../../protocol/index.js";
import { runOutpost } from "../helpers/run-outpost.js";
import {
  type StartedMaster,
  startMasterProcess,
  stopMasterProcess,
} from "../master/master-process.js";

const echo = "https://example.org/echo/software.yaml";

describe("outpost master / node / supply / request / show / destroy / telemetry", function () {
  this.timeout(90_000);
  let data: string;
  let child: ChildProcess;
  let master: StartedMaster;
  let env: NodeJS.ProcessEnv;
  let link: NodeLink | undefined;

  before(async () => {
    data = mkdtempSync(join(tmpdir(), "outpost-cli-master-"));
    const proc = startMasterProcess(data);
    child = proc.child;
    master = await proc.started;
    env = { OUTPOST_MASTER: master.url, OUTPOST_TOKEN: "" };
  });

  after(async () => {
    await link?.close();
    await stopMasterProcess(child);
    rmSync(data, { recursive: true, force: true });
  });

  it("master start --help shows the master's own defaults for --listen and --http", () => {
    const r = runOutpost(["master", "start", "--help"]);
    assert.equal(r.status, 0, r.stderr);
    const help = r.stdout.replace(/\s+/g, " ");
    assert.ok(help.includes(`(default: "${DEFAULT_LISTEN}")`), r.stdout);
    assert.ok(help.includes(`(default: "${DEFAULT_HTTP}")`), r.stdout);
  });

  it("master start refuses a bad --retention, --keep-chunks or --heartbeat in one line naming the flag and the part", () => {
    const dir = join(data, "unused");
    let r = runOutpost(["master", "start", "--data", dir, "--retention", "turbine:1d:12h"]);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /^outpost: --retention 'turbine:1d:12h': rollups \(12h\) must be kept at least as long as raw readings \(1d\)/,
    );
    r = runOutpost(["master", "start", "--data", dir, "--retention", "*:1week:forever"]);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /^outpost: --retention '\*:1week:forever': raw '1week' must be a duration/,
    );
    r = runOutpost(["master", "start", "--data", dir, "--keep-chunks", "a week"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^outpost: --keep-chunks 'a week': expected a number of days/);
    r = runOutpost(["master", "start", "--data", dir, "--heartbeat", "0"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^outpost: --heartbeat: expected whole seconds from 1 to 3600, got '0'/);
  });

  it("master key prints the public key the running master uses", () => {
    const r = runOutpost(["master", "key", "--data", data]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${master.publicKey}\n`);
  });

  it("drives a node and an instance end to end: node add/list, supply, request, show, telemetry query, destroy", async () => {
    const token = ["--token-file", join(data, "admin.token")];
    const keys = generateKeyPair();
    let r = runOutpost(["node", "add", "gw-1", "--key", keys.publicKey, ...token], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "added node gw-1\n");

    r = runOutpost(["node", "list", "--json", ...token], { env });
    assert.equal(r.status, 0, r.stderr);
    const listed = JSON.parse(r.stdout) as {
      nodes: { name: string; publicKey: string; online: boolean }[];
    };
    assert.deepEqual(
      listed.nodes.map((n) => [n.name, n.publicKey, n.online]),
      [["gw-1", keys.publicKey, false]],
      "never heard from: offline",
    );
    r = runOutpost(["node", "list", ...token], { env });
    assert.match(r.stdout, /^NAME +ONLINE +LAST SEEN +KEY/);
    assert.match(r.stdout, /\ngw-1 +no +never +/);

    r = runOutpost(["supply", echo, "--node", "gw-1", ...token], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `supplied ${echo} to gw-1\n`);

    // The node has not said hello yet: it offers no partition. With --no-wait the error
    // says so; otherwise the request waits for a place, and shows why.
    r = runOutpost(["request", echo, "echo-1", "--no-wait", "--param", "port=7000", ...token], {
      env,
    });
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^outpost: no node can take instance 'echo-1': gw-1: no partitions \(has the node said hello\?\) \[E_MASTER_NO_CAPACITY\]; free a partition/,
    );
    r = runOutpost(["request", echo, "echo-1", "--param", "port=7000", ...token], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^requested echo-1: waiting for a place \(waiting: no node can take/);
    r = runOutpost(["show", "echo-1", ...token], { env });
    assert.match(r.stdout, /^node +\(none yet\) \(no partition yet\)$/m);
    assert.match(r.stdout, /^state +waiting/m);

    // The node (this process, over CURVE) says hello and forwards one chunk.
    link = new NodeLink({
      endpoint: master.endpoint,
      masterPublicKey: master.publicKey,
      keyPair: keys,
      timeoutMs: 10_000,
    });
    await link.hello({
      agentVersion: "0.1.0",
      arch: "x64",
      board: "generic-x86",
      cpus: 4,
      partitions: 2,
      isolatedCores: [3],
    });
    // The hello offered partitions: the waiting request was placed at once.
    r = runOutpost(["show", "echo-1", "--json", ...token], { env });
    assert.equal(JSON.parse(r.stdout).instance.status, "pending");
    await link.send({
      chunkId: 1,
      stream: "turbine",
      schema: Buffer.from("fp"),
      createdAt: Date.now(),
      firstSeq: 1,
      lastSeq: 10,
      records: 10,
      compression: "none",
      body: Buffer.from("ten records"),
    });

    // --master on the command line wins over OUTPOST_MASTER.
    const flags = ["--master", master.url, ...token];
    const elsewhere = { OUTPOST_MASTER: "http://127.0.0.1:1", OUTPOST_TOKEN: "" };
    r = runOutpost(["request", echo, "echo-1", "--param", "port=7000", ...flags], {
      env: elsewhere,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "requested echo-1 on gw-1, partition 0\n");

    r = runOutpost(["show", "echo-1", "--json", ...flags], { env: elsewhere });
    assert.equal(r.status, 0, r.stderr);
    const shown = JSON.parse(r.stdout) as { instance: Record<string, unknown> };
    assert.equal(shown.instance.node, "gw-1");
    assert.equal(shown.instance.requestedState, "started");
    assert.equal(shown.instance.status, "pending");
    // Until the node says which keys its release holds secret, every value is masked.
    assert.deepEqual(shown.instance.parameters, { port: "********" });

    await link.report({
      instances: [
        {
          name: "echo-1",
          status: "starting",
          promises: [],
          connection: {},
          secrets: { software: echo, parameters: [], connection: [] },
        },
      ],
      usage: [],
    });
    r = runOutpost(["show", "echo-1", ...flags], { env: elsewhere });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^node +gw-1 \(partition 0\)$/m);
    assert.match(r.stdout, /^param +port=7000$/m);

    r = runOutpost(["telemetry", "query", "--node", "gw-1", "--since", "1h", "--json", ...token], {
      env,
    });
    assert.equal(r.status, 0, r.stderr);
    const answer = JSON.parse(r.stdout) as { chunks: Record<string, unknown>[]; gaps: unknown[] };
    assert.deepEqual(
      answer.chunks.map((c) => [c.node, c.stream, c.chunkId, c.firstSeq, c.lastSeq, c.records]),
      [["gw-1", "turbine", 1, 1, 10, 10]],
    );
    assert.deepEqual(answer.gaps, []);
    r = runOutpost(["telemetry", "query", "--node", "gw-1", ...token], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^NODE +STREAM +CHUNK +SEQ +RECORDS +RECEIVED\ngw-1 +turbine +1 +1-10 +10 +\d{4}-/,
    );
    r = runOutpost(["telemetry", "query", "--stream", "grid", "--json", ...token], { env });
    assert.deepEqual(JSON.parse(r.stdout), {
      chunks: [],
      losses: [],
      gaps: [],
      readingCounts: [
        { node: "gw-1", late: 0, clockSuspect: 0, expired: 0, awaitingSchema: 1, decodeFailed: 0 },
      ],
      decodeFailures: [],
    });
    // A chunk of the collector's schema whose body is not its records: kept raw, and
    // `telemetry query` names the node, the chunk and why.
    await link.sendSchema({
      fingerprint: RECORD_SCHEMA_FINGERPRINT,
      schema: JSON.stringify(RECORD_SCHEMA),
    });
    await link.send({
      chunkId: 2,
      stream: "turbine",
      schema: RECORD_SCHEMA_FINGERPRINT,
      createdAt: Date.now(),
      firstSeq: 11,
      lastSeq: 11,
      records: 1,
      compression: "none",
      body: Buffer.from("not a frame"),
    });
    r = runOutpost(["telemetry", "query", "--node", "gw-1", ...token], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^readings: gw-1 0 late, 0 clock-suspect, 0 expired on arrival \(past raw retention\); chunks kept raw: 1 awaiting their schema, 1 failed to decode$/m,
    );
    assert.match(
      r.stdout,
      /^decode failed: gw-1 chunk 2 \(turbine\): body damaged from byte 0 to its end \(11\)$/m,
    );

    r = runOutpost(["destroy", "echo-1", ...token], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "destroying echo-1 on gw-1\n");
    assert.equal((await link.sync()).instances[0]?.state, "destroyed", "the node is told");

    r = runOutpost(["show", "nope", ...token], { env });
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      "outpost: instance 'nope' does not exist [E_MASTER_NOT_FOUND]; check the name on the status page or with `outpost node list`\n",
    );
  });

  it("takes the token from OUTPOST_TOKEN, and refuses a wrong one in one line", () => {
    const token = readFileSync(join(data, "admin.token"), "utf8").trim();
    let r = runOutpost(["node", "list", "--json"], { env: { ...env, OUTPOST_TOKEN: token } });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Array.isArray((JSON.parse(r.stdout) as { nodes: unknown }).nodes));
    r = runOutpost(["node", "list"], { env: { ...env, OUTPOST_TOKEN: "wrong-token-value" } });
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      "outpost: admin token missing or wrong [E_MASTER_UNAUTHORIZED]; pass the master's admin.token with --token-file (or its content in OUTPOST_TOKEN)\n",
    );
  });

  it("refuses usage errors with exit 2: no token, a bad --param, a malformed --key, a bad --since", () => {
    let r = runOutpost(["node", "list"], { env });
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr,
      "outpost: no admin token: pass --token-file DATA_DIR/admin.token or set OUTPOST_TOKEN\n",
    );
    r = runOutpost(
      ["request", "u", "i", "--param", "novalue", "--token-file", join(data, "admin.token")],
      { env },
    );
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /^outpost: option '--param <key=value>' argument 'novalue' is invalid. expected key=value, got 'novalue'\n$/,
    );
    r = runOutpost(
      ["node", "add", "gw-9", "--key", "not-a-key", "--token-file", join(data, "admin.token")],
      { env },
    );
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr,
      "outpost: --key: expected the node's CURVE public key, 40 characters of Z85, got 'not-a-key'\n",
    );
    r = runOutpost(["telemetry", "query", "--since", "yesterday"], { env });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /expected an ISO 8601 time .* got 'yesterday'\n$/);
  });

  it("names an unreachable master in one line", async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const url = `http://127.0.0.1:${port}`;
    const r = runOutpost([
      "node",
      "list",
      "--master",
      url,
      "--token-file",
      join(data, "admin.token"),
    ]);
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      `outpost: cannot reach the master at ${url} (ECONNREFUSED) [E_MASTER_UNREACHABLE]; is the master running? point --master (or OUTPOST_MASTER) at its HTTP address\n`,
    );
  });

  it("stops cleanly on SIGTERM", async () => {
    assert.equal(await stopMasterProcess(child), 0);
  });
});
