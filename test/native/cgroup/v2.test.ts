import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  applyLimitsV2,
  enableControllersV2,
  isFrozenV2,
  isPopulatedV2,
  killV2,
  setFrozenV2,
  statsV2,
} from "../../../native/cgroup/v2.js";
import { Cgroup, CgroupPartitionInvalidError, spawn } from "../../../native/index.js";

function layOut(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
}

describe("cgroup v2 controller files", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-cgv2-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("writes cpu.max, cpu.weight, memory.max, pids.max and cpuset files (temp dir laid out like cgroupfs: this kernel's unified tree has no controllers)", () => {
    const files = [
      "cpu.max",
      "cpu.weight",
      "memory.max",
      "pids.max",
      "cpuset.cpus",
      "cpuset.mems",
      "cpuset.cpus.partition",
    ];
    layOut(dir, Object.fromEntries(files.map((f) => [f, ""])));
    applyLimitsV2(dir, {
      cpuCores: 1.5,
      cpuWeight: 200,
      memoryMax: 1 << 26,
      pidsMax: 32,
      cpus: [0, 1, 2, 5],
      mems: [0],
      partition: "root",
    });
    const read = (f: string) => readFileSync(join(dir, f), "utf8");
    assert.deepEqual(files.map(read), [
      "150000 100000",
      "200",
      "67108864",
      "32",
      "0-2,5",
      "0",
      "root",
    ]);
  });

  it("fails with ENOENT naming the file when a controller is not enabled (temp dir laid out like cgroupfs)", () => {
    assert.throws(() => applyLimitsV2(dir, { memoryMax: 1 << 20 }), {
      code: "ENOENT",
      path: join(dir, "memory.max"),
    });
  });

  it("reports a partition the kernel reads back invalid (temp dir: the file content stands in for the kernel's read-back)", () => {
    layOut(dir, {
      "cpuset.cpus.partition": "root invalid (Cpu list in cpuset.cpus not exclusive)",
    });
    assert.throws(() => applyLimitsV2(dir, { partition: "root" }), CgroupPartitionInvalidError);
  });

  it("enables only the missing controllers the parent offers in cgroup.subtree_control (temp dir laid out like cgroupfs)", () => {
    layOut(dir, {
      "cgroup.controllers": "cpuset cpu memory pids\n",
      "cgroup.subtree_control": "cpu\n",
    });
    writeFileSync(join(dir, "cgroup.subtree_control"), "");
    enableControllersV2(dir, ["cpu", "memory", "io"]);
    assert.equal(readFileSync(join(dir, "cgroup.subtree_control"), "utf8"), "+cpu +memory");
  });

  it("enables a controller the parent is not offered in its ancestors first, up to the mount (temp dirs laid out like cgroupfs)", () => {
    const mid = join(dir, "agent");
    const leaf = join(mid, "partitions");
    mkdirSync(leaf, { recursive: true });
    layOut(dir, { "cgroup.controllers": "cpu memory pids\n", "cgroup.subtree_control": "" });
    layOut(mid, { "cgroup.controllers": "memory\n", "cgroup.subtree_control": "" });
    layOut(leaf, { "cgroup.controllers": "memory\n", "cgroup.subtree_control": "" });
    enableControllersV2(leaf, ["cpu", "memory"], dir);
    assert.equal(readFileSync(join(dir, "cgroup.subtree_control"), "utf8"), "+cpu");
    assert.equal(readFileSync(join(mid, "cgroup.subtree_control"), "utf8"), "");
    assert.equal(readFileSync(join(leaf, "cgroup.subtree_control"), "utf8"), "+memory");
    const outside = mkdtempSync(join(tmpdir(), "outpost-v2-outside-"));
    try {
      layOut(outside, { "cgroup.controllers": "\n", "cgroup.subtree_control": "" });
      enableControllersV2(outside, ["cpu"], dir);
      assert.equal(
        readFileSync(join(outside, "cgroup.subtree_control"), "utf8"),
        "",
        "nothing above the mount",
      );
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("reads usage, peak, pids and OOM kills from v2 stat files (temp dir laid out like cgroupfs)", () => {
    layOut(dir, {
      "cpu.stat": "usage_usec 1234\nuser_usec 1000\nsystem_usec 234\n",
      "memory.current": "4096\n",
      "memory.peak": "8192\n",
      "memory.events": "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n",
      "pids.current": "3\n",
    });
    assert.deepEqual(statsV2(dir), {
      cpuUsageUs: 1234,
      memoryCurrent: 4096,
      memoryPeak: 8192,
      pidsCurrent: 3,
      oomKills: 1,
    });
  });
});

describe("cgroup v2 core files on this machine's unified tree", function () {
  this.timeout(10_000);
  const own = Cgroup.own();
  const unified = own.dirs.unified as string;
  let dir: string;
  beforeEach(() => {
    dir = join(unified, `outpost-test-v2-${process.pid}`);
    mkdirSync(dir);
  });
  afterEach(async () => {
    for (let i = 0; i < 200 && isPopulatedV2(dir); i++) {
      killV2(dir);
      await sleep(10);
    }
    rmdirSync(dir);
  });

  it("freezes and thaws a real process through cgroup.freeze", async () => {
    const child = spawn({
      command: "sleep",
      args: ["30"],
      cgroup: new Cgroup(own.layout, { unified: dir, v1: {} }),
    });
    assert.ok(isPopulatedV2(dir));
    setFrozenV2(dir, true);
    for (let i = 0; i < 100 && !isFrozenV2(dir); i++) await sleep(10);
    assert.equal(isFrozenV2(dir), true);
    setFrozenV2(dir, false);
    for (let i = 0; i < 100 && isFrozenV2(dir); i++) await sleep(10);
    assert.equal(isFrozenV2(dir), false);
    child.kill("SIGKILL");
    await child.exited;
  });

  it("kills every process of the group through cgroup.kill, and the group empties", async () => {
    const child = spawn({
      command: "sh",
      args: ["-c", "sleep 30 & sleep 30"],
      cgroup: new Cgroup(own.layout, { unified: dir, v1: {} }),
    });
    await sleep(50);
    assert.ok(readFileSync(join(dir, "cgroup.procs"), "utf8").trim().split("\n").length >= 2);
    assert.equal(killV2(dir), true);
    assert.deepEqual(await child.exited, { code: null, signal: "SIGKILL" });
    for (let i = 0; i < 100 && isPopulatedV2(dir); i++) await sleep(10);
    assert.equal(isPopulatedV2(dir), false);
  });
});
