import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { ensurePartition, InstanceRuntime, type Partition } from "../../../agent/index.js";
import { getAffinity, getRlimit, getScheduler, readOnlineCpus } from "../../../native/index.js";
import { resolveRealtimeSpec } from "../../../realtime/index.js";
import { until } from "../../helpers/until.js";

const logger = pino({ level: "silent" });

describe("instance runtime (laptop-mode partition, real processes)", function () {
  this.timeout(20_000);
  let tmp: string;
  let partition: Partition;
  let runtime: InstanceRuntime | undefined;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-agent-runtime-"));
    partition = ensurePartition(
      { root: join(tmp, "p"), logRoot: join(tmp, "logs"), userPrefix: "unused-", isolated: false },
      1,
    );
  });

  afterEach(async () => {
    await runtime?.stop();
  });

  after(() => rmSync(tmp, { recursive: true, force: true }));

  it("self-repairs a failing instance by restarting its processes, bounded, and says so in the promise", async () => {
    let changes = 0;
    runtime = new InstanceRuntime({
      name: "r1",
      partition,
      rendered: {
        parameters: {},
        files: [{ path: join(partition.path, "etc", "r1.conf"), mode: 0o600, content: "x\n" }],
        processes: [
          {
            name: "main",
            command: "sleep",
            args: ["30"],
            env: { PATH: "/usr/bin:/bin" },
            restart: "always",
            limits: {},
          },
        ],
        promises: [
          {
            name: "never",
            probe: { kind: "file", path: join(partition.path, "missing") },
            intervalMs: 20,
            timeoutMs: 100,
          },
        ],
        publish: { url: "x" },
      },
      logger,
      backoff: { initialMs: 50, maxMs: 50 },
      stopTimeoutMs: 500,
      stableMs: 10_000,
      selfRepair: { afterFailures: 3, maxRepairs: 1 },
      onChange: () => {
        changes++;
      },
    });
    await runtime.start();
    const first = runtime.processes[0]?.identity?.pid;
    assert.ok(first);
    await until(
      () => runtime?.checker.repairs === 1 && runtime.processes[0]?.state === "running",
      5000,
      "one self-repair",
    );
    assert.notEqual(runtime.processes[0]?.identity?.pid, first, "the process was restarted");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(runtime.checker.repairs, 1, "bounded");
    assert.match(runtime.promiseResults()[0]?.message ?? "", /missing \(self-repairs: 1\/1\)$/);
    assert.equal(runtime.ready(), false);
    assert.deepEqual(runtime.publish(), { url: "x" });
    assert.ok(changes > 0);
  });

  it("runs an RT process SCHED_FIFO pinned to its cores, and its realtime promise says so from /proc", async () => {
    const [core] = readOnlineCpus().slice(-1);
    assert.ok(core !== undefined);
    runtime = new InstanceRuntime({
      name: "rt1",
      partition,
      rendered: {
        parameters: {},
        files: [],
        processes: [
          {
            name: "main",
            command: "sleep",
            args: ["30"],
            env: { PATH: "/usr/bin:/bin" },
            restart: "always",
            limits: {},
            realtime: resolveRealtimeSpec({ profile: "plc", priority: 10 }),
          },
        ],
        promises: [],
        publish: {},
      },
      logger,
      backoff: { initialMs: 50, maxMs: 50 },
      stopTimeoutMs: 500,
      stableMs: 10_000,
      selfRepair: { afterFailures: 3, maxRepairs: 1 },
      realtime: {
        cpus: [core],
        shared: readOnlineCpus().filter((c) => c !== core),
        slices: { main: [core] },
        runtimeChain: [],
        confined: () => [],
        notes: ["no IRQ to move"],
      },
      onChange: () => {},
    });
    await runtime.start();
    const pid = runtime.processes[0]?.identity?.pid as number;
    assert.deepEqual(getAffinity(pid), [core]);
    assert.deepEqual(getScheduler(pid), { policy: "fifo", priority: 10 });
    await until(() => runtime?.ready() === true, 5000, "realtime promise checked");
    const [rt] = runtime.promiseResults();
    assert.equal(rt?.name, "realtime");
    assert.equal(rt?.ok, true, rt?.message);
    assert.match(
      rt?.message ?? "",
      new RegExp(
        `^main SCHED_FIFO 10 on cpu ${core}; no other partition may use cpu ${core}; no IRQ to move`,
      ),
    );
  });

  function oneProcess(name: string, command: string, args: string[]): InstanceRuntime {
    return new InstanceRuntime({
      name,
      partition,
      rendered: {
        parameters: {},
        files: [],
        processes: [
          {
            name: "main",
            command,
            args,
            env: { PATH: "/usr/bin:/bin" },
            restart: "always",
            limits: {},
          },
        ],
        promises: [],
        publish: {},
      },
      logger,
      backoff: { initialMs: 20, maxMs: 20 },
      stopTimeoutMs: 500,
      stableMs: 10_000,
      selfRepair: { afterFailures: 3, maxRepairs: 1 },
      onChange: () => {},
    });
  }

  it("says a process that cannot start is failed, with the errno and the log's last lines", async () => {
    const script = join(tmp, "not-a-program");
    writeFileSync(script, "no shebang, no ELF\n", { mode: 0o755 });
    runtime = oneProcess("nostart", script, []);
    await runtime.start();
    await until(() => runtime?.status() === "failed", 5000, "failed");
    const [failure] = runtime.failures();
    assert.equal(failure?.name, "process:main");
    assert.equal(failure?.ok, false);
    assert.match(failure?.message ?? "", /^ENOEXEC: cannot start: ENOEXEC: .*execve/);
  });

  it("says a crash-looping process is failed after 5 exits in a minute, with its last status and log", async () => {
    runtime = oneProcess("crashy", "sh", ["-c", "echo boom-$$ >&2; exit 3"]);
    await runtime.start();
    await until(() => runtime?.status() === "failed", 5000, "failed");
    const [failure] = runtime.failures();
    assert.match(
      failure?.message ?? "",
      /^E_AGENT_CRASH_LOOP: ended \d+ times within 60 s; last exit status 3; log: .*boom-\d+$/,
    );
    assert.equal(runtime.failures(Date.now() + 61_000).length, 0, "a minute later it is not");
  });

  it("gives every process the node's open files for an instance, and every command check the promise's", async () => {
    const limited: Partition = {
      ...partition,
      limits: {
        instance: { memory: null, pids: null, cpu: null, openFiles: 300, disk: null },
        promise: { memory: null, pids: null, cpu: null, openFiles: 40 },
      },
    };
    runtime = new InstanceRuntime({
      name: "files",
      partition: limited,
      rendered: {
        parameters: {},
        files: [],
        processes: [
          {
            name: "main",
            command: "sleep",
            args: ["30"],
            env: { PATH: "/usr/bin:/bin" },
            restart: "always",
            limits: {},
          },
        ],
        promises: [
          {
            name: "files",
            probe: {
              kind: "command",
              argv: ["/bin/sh", "-c", "echo $(ulimit -Sn)/$(ulimit -Hn)"],
              cwd: partition.path,
              env: { PATH: "/usr/bin:/bin" },
            },
            intervalMs: 50,
            timeoutMs: 2000,
          },
        ],
        publish: {},
      },
      logger,
      backoff: { initialMs: 50, maxMs: 50 },
      stopTimeoutMs: 500,
      stableMs: 10_000,
      selfRepair: { afterFailures: 3, maxRepairs: 1 },
      onChange: () => {},
    });
    await runtime.start();
    const pid = runtime.processes[0]?.identity?.pid as number;
    assert.deepEqual(getRlimit(pid, "nofile"), { soft: 300, hard: 300 });
    await until(() => runtime?.ready() === true, 5000, "the check ran");
    assert.equal(runtime.promiseResults()[0]?.message, "40/40", "soft/hard");
  });
});
