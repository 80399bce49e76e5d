import { strict as assert } from "node:assert";
import { execFileSync, spawn as spawnChild } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import {
  loadOrCreateIdentity,
  partitionsGroupName,
  type RunningAgent,
  removeCgroupTree,
  removeSystemUser,
  softwareId,
  startAgent,
} from "../../agent/index.js";
import {
  type InstanceRecord,
  isPlaced,
  MasterClient,
  openDataDir,
  type PlacedInstance,
  type RunningMaster,
  startMaster,
} from "../../master/index.js";
import { Cgroup } from "../../native/index.js";
import { repoRoot } from "../helpers/run-outpost.js";
import { eventually, until } from "../helpers/until.js";

const fixture = join(repoRoot, "test", "fixtures", "echo");
const logger = pino({ level: process.env.DEBUG_AGENT_LOG ?? "silent" });

function uidOf(pid: number): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

describe("node agent with a real master on loopback", function () {
  this.timeout(60_000);
  let tmp: string;
  let master: RunningMaster;
  let client: MasterClient;
  let agent: RunningAgent | undefined;
  let parent: Cgroup;
  const parentName = `outpost-test-agent-${process.pid}`;
  const userPrefix = `ota${randomBytes(3).toString("hex")}-`;
  const buildPrefix = `otb${randomBytes(3).toString("hex")}`;
  let agentData: string;
  let echoUrl: string;

  function start(): Promise<RunningAgent> {
    return startAgent({
      data: agentData,
      master: master.endpoint,
      masterKey: master.publicKey,
      partitions: 4,
      agentVersion: "0.0.0-test",
      logger,
      cgroupParent: parentName,
      userPrefix,
      buildAccountPrefix: buildPrefix,
      syncInterval: 0.2,
      restartBackoff: { initial: 1.5, max: 1.5 },
      installBackoff: { initial: 60, max: 60 },
      stopTimeout: 2,
      metrics: "127.0.0.1:0",
      fullPass: 1,
      usageInterval: 0.5,
    });
  }

  async function show(name: string): Promise<InstanceRecord | undefined> {
    try {
      return (await client.show(name)).instance;
    } catch (err) {
      if ((err as { code?: string }).code === "E_MASTER_NOT_FOUND") return undefined;
      throw err;
    }
  }

  async function ready(name: string): Promise<PlacedInstance> {
    return eventually(`${name} ready`, 20_000, async () => {
      const i = await show(name);
      return i &&
        isPlaced(i) &&
        i.status === "running" &&
        i.promises.length > 0 &&
        i.promises.every((p) => p.ok)
        ? i
        : undefined;
    });
  }

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-agent-e2e-"));
    chmodSync(tmp, 0o711);
    mkdirSync(join(tmp, "echo"));
    for (const f of ["software.yaml", "echo.tar.gz"])
      copyFileSync(join(fixture, f), join(tmp, "echo", f));
    echoUrl = join(tmp, "echo", "software.yaml");
    parent = Cgroup.own().createChild(parentName);
    master = await startMaster({
      data: join(tmp, "master"),
      listen: "tcp://127.0.0.1:*",
      http: "127.0.0.1:0",
      logger,
    });
    client = new MasterClient(master.url, openDataDir(join(tmp, "master")).adminToken);
    agentData = join(tmp, "agent");
    await client.addNode("n1", loadOrCreateIdentity(agentData).publicKey);
    agent = await start();
    await eventually("registered", 10_000, async () =>
      (await client.listNodes())[0]?.partitions === 4 ? true : undefined,
    );
    await client.supply("n1", echoUrl);
  });

  after(async () => {
    await agent?.shutdown();
    await master?.close();
    if (parent) await removeCgroupTree(parent);
    for (const n of [1, 2, 3, 4]) removeSystemUser(`${userPrefix}${n}`);
    rmSync(tmp, { recursive: true, force: true });
  });

  /**
   * The pid of an instance's first process, once it has one: between a restart's stop and
   * start (a loaded box can fail a promise check, and self-repair restarts) none is held.
   */
  function runningPid(name: string): Promise<number> {
    return eventually(
      `${name}'s process`,
      10_000,
      () => agent?.converger.runtime(name)?.processes[0]?.identity?.pid,
    );
  }

  it("supplies + requests the example release: ready with its connection parameters, as the partition user in the partition's cgroup", async () => {
    await client.request({ name: "e1", software: echoUrl, parameters: { port: "7100" } });
    const e1 = await ready("e1");
    assert.equal(e1.partition, 0);
    assert.deepEqual(e1.connection, { url: "tcp://127.0.1.1:7100" });
    const pid = agent?.converger.runtime("e1")?.processes[0]?.identity?.pid as number;
    assert.equal(
      uidOf(pid),
      Number(
        /^[^:]+:[^:]*:(\d+)/m.exec(
          readFileSync("/etc/passwd", "utf8")
            .split("\n")
            .find((l) => l.startsWith(`${userPrefix}1:`)) ?? "",
        )?.[1],
      ),
    );
    const procs = readFileSync(
      join(
        parent.dirs.v1.cpu ?? parent.path,
        partitionsGroupName(agent?.naming.prefix ?? ""),
        "p1",
        "proc-server",
        "cgroup.procs",
      ),
      "utf8",
    );
    assert.ok(procs.split("\n").includes(String(pid)));
    assert.ok(await canConnect("127.0.1.1", 7100));
    assert.equal(
      readFileSync(join(agentData, "partitions", "p1", "etc", "echo.conf"), "utf8"),
      "port=7100\n",
    );
    const metrics = await (await fetch(agent?.metricsUrl as string)).text();
    assert.match(metrics, /^outpost_agent_instances\{status="running"\} 1$/m);
    assert.match(metrics, /^outpost_agent_master_online 1$/m);
    assert.match(metrics, /^outpost_agent_converge_passes_total [1-9]/m);
  });

  it("reports usage of the partition's cgroup to the master, and repairs a deleted file on the periodic full pass", async () => {
    const usage = await eventually("usage reported", 10_000, async () => {
      const shown = await client.show("e1");
      return shown.usage.length > 0 ? shown.usage : undefined;
    });
    assert.ok(usage[0] && usage[0].memoryPeakBytes > 0 && usage[0].cpuSeconds >= 0);
    assert.ok(usage[0] && usage[0].to > usage[0].from);
    const conf = join(agentData, "partitions", "p1", "etc", "echo.conf");
    rmSync(conf);
    await until(() => existsSync(conf), 10_000, "echo.conf rewritten");
    assert.equal(readFileSync(conf, "utf8"), "port=7100\n");
  });

  it("lets the instance publish through its partition's local API, which other partitions cannot reach", async () => {
    const pid = await runningPid("e1");
    const socket = join(agentData, "api", "p1.sock");
    assert.ok(
      readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`OUTPOST_API=${socket}`),
    );
    // Asynchronous: the agent under test runs in this process and must answer meanwhile.
    const asUser = (n: number, body: string) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawnChild("socat", ["-", `UNIX-CONNECT:${socket}`], {
          uid: Number(execFileSync("id", ["-u", `${userPrefix}${n}`], { encoding: "utf8" })),
          gid: Number(execFileSync("id", ["-g", `${userPrefix}${n}`], { encoding: "utf8" })),
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => {
          stdout += d.toString("utf8");
        });
        child.stderr.on("data", (d: Buffer) => {
          stderr += d.toString("utf8");
        });
        child.on("close", (status) => resolve({ status, stdout, stderr }));
        // A socat refused the socket exits at once: the request may meet a closed pipe.
        child.stdin.on("error", () => undefined);
        child.stdin.end(body);
      });
    const put = '{"admin":"http://127.0.1.1:8100"}';
    const http = `PUT /v1/publish HTTP/1.1\r\nHost: x\r\nContent-Length: ${put.length}\r\nConnection: close\r\n\r\n${put}`;
    const denied = await asUser(2, http);
    assert.notEqual(denied.status, 0);
    assert.match(denied.stderr, /Permission denied/);
    const ok = await asUser(1, http);
    assert.match(ok.stdout, /^HTTP\/1\.1 204/, `${ok.status} ${ok.stderr}`);
    const e1 = await eventually("published", 10_000, async () => {
      const i = await show("e1");
      return i?.connection.admin ? i : undefined;
    });
    assert.deepEqual(e1.connection, {
      url: "tcp://127.0.1.1:7100",
      admin: "http://127.0.1.1:8100",
    });
  });

  it("restarts a workload killed with SIGKILL; its promise goes red then green", async () => {
    const runtime = agent?.converger.runtime("e1");
    const pid = await runningPid("e1");
    process.kill(pid, "SIGKILL");
    await eventually("promise red", 10_000, async () =>
      (await show("e1"))?.promises[0]?.ok === false ? true : undefined,
    );
    await ready("e1");
    assert.notEqual(runtime?.processes[0]?.identity?.pid, pid);
    assert.equal(runtime?.processes[0]?.restarts, 1);
  });

  it("reports bad parameters, a bad descriptor and a sha256 mismatch as clear errors, without blocking e1", async () => {
    await client.request({
      name: "bad-params",
      software: echoUrl,
      parameters: { port: "seventy" },
    });
    const badSha = join(tmp, "bad-sha");
    mkdirSync(badSha);
    copyFileSync(join(fixture, "echo.tar.gz"), join(badSha, "echo.tar.gz"));
    writeFileSync(
      join(badSha, "software.yaml"),
      readFileSync(join(fixture, "software.yaml"), "utf8").replace(
        /sha256: [0-9a-f]{4}/,
        "sha256: 0000",
      ),
    );
    const badDesc = join(tmp, "bad-desc.yaml");
    writeFileSync(badDesc, "apiVersion: outpost/v1\nname: broken\nversion: 1\n");
    for (const url of [join(badSha, "software.yaml"), badDesc]) await client.supply("n1", url);
    await client.destroy("e1");
    await eventually("e1 destroyed", 20_000, async () =>
      (await show("e1")) === undefined ? true : undefined,
    );
    await client.request({
      name: "bad-sha",
      software: join(badSha, "software.yaml"),
      parameters: {},
    });
    await client.request({ name: "bad-desc", software: badDesc, parameters: {} });
    const failed = async (name: string, pattern: RegExp) => {
      const i = await eventually(`${name} failed`, 20_000, async () => {
        const s = await show(name);
        return s?.status === "failed" ? s : undefined;
      });
      assert.match(i.promises[0]?.message ?? "", pattern);
    };
    await failed("bad-params", /bad parameters: port: must be integer/);
    await failed("bad-sha", /sha256 mismatch for file:.*echo\.tar\.gz/);
    await failed("bad-desc", /software descriptor .*bad-desc\.yaml: version: must be string/);
  });

  it("destroy removes processes, files, cgroup and address use, and frees the partition", async () => {
    await client.request({ name: "e2", software: echoUrl, parameters: { port: "7200" } });
    const e2 = await ready("e2");
    const p = `p${e2.partition + 1}`;
    const pid = agent?.converger.runtime("e2")?.processes[0]?.identity?.pid as number;
    await client.destroy("e2");
    await eventually("e2 gone from the master", 20_000, async () =>
      (await show("e2")) === undefined ? true : undefined,
    );
    assert.ok(
      !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z"),
    );
    assert.deepEqual(readdirSync(join(agentData, "partitions", p)), []);
    assert.ok(
      !existsSync(
        join(parent.dirs.v1.cpu ?? parent.path, partitionsGroupName(agent?.naming.prefix ?? ""), p),
      ),
    );
    assert.equal(await canConnect(`127.0.1.${e2.partition + 1}`, 7200), false);
    for (const name of ["bad-params", "bad-sha", "bad-desc"]) await client.destroy(name);
  });

  it("an instance that requests another starts with its connection parameters; the child dies with it", async () => {
    await eventually("bad instances gone", 20_000, async () =>
      (await show("bad-sha")) === undefined ? true : undefined,
    );
    mkdirSync(join(tmp, "frontend"));
    const frontendUrl = join(tmp, "frontend", "software.yaml");
    copyFileSync(join(repoRoot, "test", "fixtures", "frontend", "software.yaml"), frontendUrl);
    await client.supply("n1", frontendUrl);
    await client.request({
      name: "fe",
      software: frontendUrl,
      parameters: { backendPort: "7400" },
    });
    const fe = await ready("fe");
    const child = await ready("fe.backend");
    assert.equal(child.parent, "fe");
    assert.equal(child.node, "n1");
    assert.equal(child.software, `file://${join(tmp, "echo", "software.yaml")}`);
    assert.deepEqual(child.parameters, { port: "7400" });
    const backend = `tcp://127.0.1.${child.partition + 1}:7400`;
    assert.deepEqual(child.connection, { url: backend });
    assert.deepEqual(fe.connection, { backend });
    const file = join(agentData, "partitions", `p${fe.partition + 1}`, "etc", "backend.url");
    assert.equal(readFileSync(file, "utf8"), `${backend}\n`);
    await client.destroy("fe");
    await eventually("fe and its backend gone", 20_000, async () =>
      (await show("fe")) === undefined && (await show("fe.backend")) === undefined
        ? true
        : undefined,
    );
    assert.equal(await canConnect(`127.0.1.${child.partition + 1}`, 7400), false);
  });

  it("switches an instance to another release: installed beside, same partition, data kept, both named meanwhile", async () => {
    await client.request({ name: "sw", software: echoUrl, parameters: { port: "7400" } });
    const before = await ready("sw");
    const dir = join(agentData, "partitions", `p${before.partition + 1}`);
    writeFileSync(join(dir, "state.db"), "kept\n");
    // v2: another URL, a build that takes a moment so the switch can be seen.
    mkdirSync(join(tmp, "echo2"));
    copyFileSync(join(fixture, "echo.tar.gz"), join(tmp, "echo2", "echo.tar.gz"));
    const v2 = join(tmp, "echo2", "software.yaml");
    writeFileSync(
      v2,
      readFileSync(echoUrl, "utf8")
        .replace("version: 1.0.0", "version: 2.0.0")
        .replace(
          'run: ["make", "install", "PREFIX={{software}}"]',
          'run: ["sh", "-c", "sleep 2 && make install PREFIX={{software}}"]',
        ),
    );
    await client.supply("n1", v2);
    await client.request({ name: "sw", software: v2, parameters: { port: "7400" } });
    const switching = await eventually("the switch reported", 10_000, async () =>
      (await show("sw"))?.promises.find((p) => p.name === "switch"),
    );
    assert.match(
      switching.message ?? "",
      /^running echo 1\.0\.0 \(.*echo\/software\.yaml\); switching to .*echo2\/software\.yaml/,
    );
    const after = await eventually("switched", 20_000, async () => {
      const i = await show("sw");
      return i &&
        isPlaced(i) &&
        i.status === "running" &&
        i.promises.every((p) => p.ok && p.name !== "switch")
        ? i
        : undefined;
    });
    assert.equal(after.software, v2);
    assert.equal(after.partition, before.partition);
    assert.equal(readFileSync(join(dir, "state.db"), "utf8"), "kept\n", "its data was kept");
    const running = agent?.converger.runtime("sw")?.processes[0]?.launch.command ?? "";
    assert.ok(running.includes(softwareId(v2, readFileSync(v2))), "runs the new release's tree");
    await client.destroy("sw");
  });

  it("a restarted agent re-adopts running workloads, also with the master offline", async () => {
    await client.request({ name: "e3", software: echoUrl, parameters: { port: "7300" } });
    await ready("e3");
    const pid = agent?.converger.runtime("e3")?.processes[0]?.identity?.pid as number;
    await agent?.close();
    await master.close();
    agent = await start();
    const adopted = agent.converger.runtime("e3")?.processes[0];
    assert.equal(adopted?.identity?.pid, pid, "not restarted");
    assert.equal(adopted?.restarts, 0);
    process.kill(pid, "SIGKILL");
    await until(
      () => adopted?.state === "running" && adopted.identity?.pid !== pid,
      10_000,
      "restarted offline",
    );
    assert.equal(uidOf(adopted?.identity?.pid as number) > 0, true);
  });
});
