import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import {
  ensurePartition,
  type Partition,
  type PartitionOptions,
  type ProcessLaunch,
  removeCgroupTree,
  removePartition,
  removeSystemUser,
  rotateLog,
  SupervisedProcess,
  type SupervisionOptions,
} from "../../../agent/index.js";
import { Cgroup } from "../../../native/index.js";
import { until } from "../../helpers/until.js";

const logger = pino({ level: "silent" });

function uidOf(pid: number): number {
  const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1]);
}

describe("supervised processes (real partition user, cgroup, pidfd)", function () {
  this.timeout(30_000);
  let tmp: string;
  let parent: Cgroup;
  let options: PartitionOptions;
  let partition: Partition;
  let groups = 0;
  const running: SupervisedProcess[] = [];

  function launch(name: string, script: string): ProcessLaunch {
    const cgroup = partition.cgroup?.createChild(`${name}-${groups++}`);
    return {
      name,
      command: "sh",
      args: ["-c", script],
      env: { PATH: "/usr/bin:/bin" },
      cwd: partition.path,
      user: partition.user,
      ...(cgroup ? { cgroup } : {}),
      logFile: join(partition.logPath, `${name}.log`),
    };
  }

  function supervise(l: ProcessLaunch, o: Partial<SupervisionOptions> = {}): SupervisedProcess {
    const p = new SupervisedProcess(l, {
      restart: "always",
      backoff: { initialMs: 50, maxMs: 400 },
      stopTimeoutMs: 500,
      stableMs: 10_000,
      logger,
      ...o,
    });
    running.push(p);
    return p;
  }

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-agent-sup-"));
    chmodSync(tmp, 0o711);
    parent = Cgroup.own().createChild(`outpost-test-agent-sup-${process.pid}`);
    options = {
      root: tmp,
      logRoot: join(tmp, "logs"),
      userPrefix: `ots${randomBytes(3).toString("hex")}-`,
      isolated: true,
      cgroupParent: parent,
    };
    partition = ensurePartition(options, 1);
  });

  afterEach(async () => {
    for (const p of running.splice(0)) await p.stop();
  });

  after(async () => {
    try {
      await removePartition(options, partition);
    } finally {
      await removeCgroupTree(parent);
      removeSystemUser(`${options.userPrefix}1`);
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("runs the process as the partition user inside its own cgroup, output in its log", async () => {
    const p = supervise(launch("hello", "echo hello from $(id -un); exec sleep 30"));
    p.start();
    const pid = p.identity?.pid as number;
    assert.equal(uidOf(pid), partition.uid);
    assert.ok(p.launch.cgroup?.procs().includes(pid), "in its own cgroup");
    await until(
      () => readFileSync(p.launch.logFile, "utf8").includes("hello"),
      5000,
      "hello in the log",
    );
    assert.equal(readFileSync(p.launch.logFile, "utf8"), `hello from ${partition.user}\n`);
  });

  it("restarts a process killed with SIGKILL (restart: always)", async () => {
    const p = supervise(launch("victim", "exec sleep 30"));
    p.start();
    const first = p.identity?.pid as number;
    process.kill(first, "SIGKILL");
    await until(
      () => p.state === "running" && p.identity?.pid !== first,
      5000,
      "a new pid after the kill",
    );
    assert.equal(p.restarts, 1);
    assert.equal(p.lastExit?.signal, "SIGKILL");
    assert.equal(uidOf(p.identity?.pid as number), partition.uid);
  });

  it("backs off exponentially between restarts of a crashing process, up to the cap", async () => {
    const starts: number[] = [];
    const p = supervise(launch("crasher", "exit 3"), {
      restart: "on-failure",
      onChange: (s) => {
        if (s.state === "running") starts.push(Date.now());
      },
    });
    p.start();
    await until(() => starts.length >= 6, 10_000, "six starts");
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] as number));
    // 50, 100, 200, 400, 400 ms (plus scheduling)
    assert.ok((gaps[0] as number) >= 45 && (gaps[0] as number) < 200, `gaps ${gaps}`);
    assert.ok((gaps[2] as number) >= 190, `gaps ${gaps}`);
    assert.ok((gaps[4] as number) >= 390 && (gaps[4] as number) < 800, `gaps ${gaps}`);
    assert.equal(p.lastExit?.code, 3);
  });

  it("does not restart a clean exit under on-failure, nor any exit under never", async () => {
    const clean = supervise(launch("clean", "exit 0"), { restart: "on-failure" });
    const never = supervise(launch("never", "exit 1"), { restart: "never" });
    clean.start();
    never.start();
    await until(() => clean.state === "exited" && never.state === "exited", 5000, "both exited");
    await sleep(150);
    assert.equal(clean.restarts + never.restarts, 0);
  });

  it("stops gracefully with SIGTERM when the process honours it", async () => {
    const p = supervise(launch("polite", "trap 'echo bye; exit 0' TERM; sleep 30 & wait"));
    p.start();
    await sleep(100);
    const t0 = Date.now();
    await p.stop();
    assert.ok(Date.now() - t0 < 450, "stopped before the kill timeout");
    assert.equal(p.state, "stopped");
    assert.match(readFileSync(p.launch.logFile, "utf8"), /bye/);
    // The group kill was sent on stop; the kernel empties the group right after.
    await until(() => p.launch.cgroup?.procs().length === 0, 5000, "leftover sleep killed");
  });

  it("kills the whole group after the timeout when SIGTERM is ignored", async () => {
    const p = supervise(launch("stubborn", "trap '' TERM; sleep 30 & sleep 30 & wait"));
    p.start();
    await sleep(100);
    assert.equal(p.launch.cgroup?.procs().length, 3);
    const t0 = Date.now();
    await p.stop();
    assert.ok(Date.now() - t0 >= 500);
    await until(() => p.launch.cgroup?.procs().length === 0, 5000, "group empty after the kill");
    assert.equal(p.restarts, 0);
  });

  it("re-adopts a running process after an agent restart and keeps supervising it", async () => {
    const l = launch("survivor", "exec sleep 30");
    const before = supervise(l);
    before.start();
    const identity = before.identity;
    assert.ok(identity);
    before.detach();
    running.splice(running.indexOf(before), 1);
    const after = supervise(l);
    assert.ok(after.adopt(identity));
    assert.equal(after.identity?.pid, identity.pid, "not restarted");
    process.kill(identity.pid, "SIGKILL");
    await until(
      () => after.state === "running" && after.identity?.pid !== identity.pid,
      5000,
      "restarted after the kill",
    );
    assert.equal(after.restarts, 1);
  });

  it("refuses to adopt a pid whose process is gone or was reused", () => {
    const p = supervise(launch("ghost", "exit 0"));
    assert.equal(p.adopt({ pid: process.pid, startTicks: 1 }), false);
    assert.equal(p.adopt({ pid: 2 ** 22 + 1, startTicks: 1 }), false);
  });

  it("rotates a log past its size while the process keeps appending to it", async () => {
    const p = supervise(
      launch("chatty", "i=0; while :; do i=$((i+1)); echo line $i; sleep 0.001; done"),
    );
    p.start();
    const rotation = { maxBytes: 5000, keep: 2 };
    await until(() => statSync(p.launch.logFile).size > 10_000, 10_000, "log grew");
    assert.deepEqual(
      { ...(await rotateLog(p.launch.logFile, rotation)), size: 0, kept: 0 },
      { rotated: true, method: "collapse", size: 0, kept: 0, dropped: 0 },
    );
    assert.match(readFileSync(`${p.launch.logFile}.1`, "utf8"), /^line 1\n/);
    await until(() => statSync(p.launch.logFile).size > 0, 5000, "process wrote after rotation");
    const fresh = readFileSync(p.launch.logFile, "utf8");
    assert.ok(!fresh.startsWith("\0"), "the process writes at the new end, no hole");
    writeFileSync(`${p.launch.logFile}.2`, "oldest\n");
    await until(() => statSync(p.launch.logFile).size > 10_000, 10_000, "log grew again");
    assert.equal((await rotateLog(p.launch.logFile, rotation)).rotated, true);
    await p.stop();
    assert.match(readFileSync(`${p.launch.logFile}.2`, "utf8"), /^line 1\n/, "kept 2, oldest gone");
    const all = ["2", "1"].map((n) => readFileSync(`${p.launch.logFile}.${n}`, "utf8")).join("");
    const lines = (all + readFileSync(p.launch.logFile, "utf8")).trimEnd().split("\n");
    assert.deepEqual(
      lines,
      lines.map((_, i) => `line ${i + 1}`),
      "every line, in order, across the rotated files and the log",
    );
    assert.equal(
      (await rotateLog(p.launch.logFile, { maxBytes: 1 << 20, keep: 2 })).rotated,
      false,
    );
  });
});
