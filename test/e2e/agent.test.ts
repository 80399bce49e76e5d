import { strict as assert } from "node:assert";
import type { ChildProcess } from "node:child_process";
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
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  agentAccounts,
  derivedPrefix,
  listBuildAccounts,
  partitionsGroupName,
  removeCgroupTree,
  uninstallAgent,
} from "../../agent/index.js";
import { type InstanceView, isPlaced, type PlacedInstance } from "../../master/index.js";
import { Cgroup, resolveUser, type WatchedProcess } from "../../native/index.js";
import {
  accountExists,
  type StartedMaster,
  startAgentProcess,
  startMaster,
  stopMaster,
} from "../helpers/e2e-stack.js";
import { repoRoot, runOutpost } from "../helpers/run-outpost.js";
import { eventually } from "../helpers/until.js";

const fixture = join(repoRoot, "test", "fixtures", "echo");

describe("e2e: master + agent processes on loopback with the example release", function () {
  this.timeout(120_000);
  let tmp: string;
  let group: Cgroup;
  let master: ChildProcess;
  let started: StartedMaster;
  let env: NodeJS.ProcessEnv;
  let agent: WatchedProcess | undefined;
  let agentData: string;
  let prefix: string;
  let echoUrl: string;
  let slowUrl: string;

  function cli(...args: string[]) {
    const result = runOutpost(args, { env });
    assert.equal(result.status, 0, `outpost ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  }

  function show(name: string): InstanceView | undefined {
    const result = runOutpost(["show", name, "--json"], { env });
    if (result.status !== 0) return undefined;
    return (JSON.parse(result.stdout) as { instance: InstanceView }).instance;
  }

  function ready(name: string): Promise<InstanceView & PlacedInstance> {
    return eventually(`${name} running with its promises green`, 60_000, () => {
      const i = show(name);
      return i &&
        isPlaced(i) &&
        i.status === "running" &&
        i.promises.length > 0 &&
        i.promises.every((p) => p.ok)
        ? i
        : undefined;
    });
  }

  /** `outpost agent start` as its own process, in the test's cgroup (the agent's own group). */
  function startAgent(): WatchedProcess {
    return startAgentProcess(started, agentData, group, join(tmp, "agent.log"));
  }

  function serverPid(partition: number): number[] {
    const dir = group.dirs.v1.cpu ?? group.path;
    const procs = join(
      dir,
      partitionsGroupName(prefix),
      `p${partition}`,
      "proc-server",
      "cgroup.procs",
    );
    return readFileSync(procs, "utf8").split("\n").filter(Boolean).map(Number);
  }

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-e2e-agent-"));
    chmodSync(tmp, 0o711);
    for (const name of ["echo", "slow"]) {
      mkdirSync(join(tmp, name));
      copyFileSync(join(fixture, "echo.tar.gz"), join(tmp, name, "echo.tar.gz"));
    }
    echoUrl = join(tmp, "echo", "software.yaml");
    copyFileSync(join(fixture, "software.yaml"), echoUrl);
    slowUrl = join(tmp, "slow", "software.yaml");
    writeFileSync(
      slowUrl,
      readFileSync(join(fixture, "software.yaml"), "utf8").replace(
        'run: ["make", "install", "PREFIX={{software}}"]',
        'run: ["sh", "-c", "sleep 3 && make install PREFIX={{software}}"]',
      ),
    );
    group = Cgroup.own().createChild(`outpost-test-e2e-agent-${process.pid}`);
    ({ master, started, env } = await startMaster(join(tmp, "master")));
    agentData = join(tmp, "agent");
    prefix = derivedPrefix(agentData);
    assert.deepEqual(
      [1, 2, 3].map((n) => `${prefix}p${n}`).filter(accountExists),
      [],
      "this box already has this agent's accounts",
    );
    const key = cli("agent", "key", "--data", agentData).trim();
    cli("node", "add", "n1", "--key", key);
    agent = startAgent();
    await eventually("agent registered", 30_000, () =>
      JSON.parse(cli("node", "list", "--json")).nodes[0]?.partitions === 3 ? true : undefined,
    );
    cli("supply", echoUrl, "--node", "n1");
  });

  after(async () => {
    agent?.kill("SIGKILL");
    await agent?.exited;
    await stopMaster(master);
    const left = await uninstallAgent(agentData);
    if (group) await removeCgroupTree(group);
    rmSync(tmp, { recursive: true, force: true });
    assert.equal(left.prefix, prefix);
    assert.ok(left.groups.some((g) => g.endsWith(partitionsGroupName(prefix))));
    assert.deepEqual(agentAccounts(prefix), [], "uninstall removed every account");
  });

  it("supply + request reach running with green promises and connection parameters; the workload runs as the agent's p1 account in its partition's cgroup", async () => {
    cli("request", echoUrl, "e1", "--param", "port=7500");
    const e1 = await ready("e1");
    assert.equal(e1.state, "ready");
    assert.deepEqual(e1.connection, { url: "tcp://127.0.1.1:7500" });
    const [pid] = serverPid(1);
    assert.ok(pid);
    const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
    assert.equal(uid, resolveUser(`${prefix}p1`).uid);
  });

  it("kill -9 of the agent during an install: the next start rebuilds from scratch and running workloads are not restarted", async () => {
    const e1Pids = serverPid(1);
    cli("supply", slowUrl, "--node", "n1");
    cli("request", slowUrl, "s1", "--param", "port=7600");
    const builds = join(agentData, "builds");
    const working = () => readdirSync(builds).filter((e) => !e.endsWith(".log"));
    await eventually("build started", 30_000, () => (working().length > 0 ? true : undefined));
    agent?.kill("SIGKILL");
    await agent?.exited;
    agent = startAgent();
    const s1 = await ready("s1");
    assert.deepEqual(s1.connection, { url: `tcp://127.0.1.${s1.partition + 1}:7600` });
    assert.deepEqual(working(), []);
    assert.deepEqual(listBuildAccounts(`${prefix}b`), [], "the killed build's account was removed");
    assert.deepEqual(serverPid(1), e1Pids, "e1 was adopted, not restarted");
  });

  it("kill -9 of the agent during a start: the next start converges without duplicates or restarts", async () => {
    const e1Pids = serverPid(1);
    const journal = join(agentData, "journal.json");
    cli("request", echoUrl, "e2", "--param", "port=7700");
    await eventually("e2 journaled", 30_000, () =>
      existsSync(journal) && readFileSync(journal, "utf8").includes('"e2"') ? true : undefined,
    );
    agent?.kill("SIGKILL");
    await agent?.exited;
    agent = startAgent();
    const e2 = await ready("e2");
    const partition = e2.partition + 1;
    await eventually("one e2 server", 10_000, () =>
      serverPid(partition).length === 1 ? true : undefined,
    );
    assert.deepEqual(serverPid(1), e1Pids, "e1 was adopted, not restarted");
    const entry = (
      JSON.parse(readFileSync(journal, "utf8")) as {
        instances: Record<string, { phase: string; processes: { server: { pid: number } } }>;
      }
    ).instances.e2;
    assert.equal(entry?.phase, "started");
    assert.deepEqual(serverPid(partition), [entry?.processes.server.pid]);
  });

  it("a release whose instance requests another gets that instance's connection parameters; destroy takes both", async () => {
    // Three partitions: free two for fe and the instance it requests.
    for (const name of ["s1", "e2"]) cli("destroy", name);
    await eventually("s1 and e2 gone", 60_000, () =>
      show("s1") === undefined && show("e2") === undefined ? true : undefined,
    );
    mkdirSync(join(tmp, "frontend"));
    const frontendUrl = join(tmp, "frontend", "software.yaml");
    copyFileSync(join(repoRoot, "test", "fixtures", "frontend", "software.yaml"), frontendUrl);
    cli("supply", frontendUrl, "--node", "n1");
    cli("request", frontendUrl, "fe", "--param", "backendPort=7800");
    const fe = await ready("fe");
    const backend = await ready("fe.backend");
    assert.equal(fe.state, "ready");
    assert.equal(backend.parent, "fe");
    const url = `tcp://127.0.1.${backend.partition + 1}:7800`;
    assert.deepEqual(backend.connection, { url });
    assert.deepEqual(fe.connection, { backend: url });
    cli("destroy", "fe");
    await eventually("fe and fe.backend gone", 60_000, () =>
      show("fe") === undefined && show("fe.backend") === undefined ? true : undefined,
    );
  });
});
