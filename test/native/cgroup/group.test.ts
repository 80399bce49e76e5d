import { strict as assert } from "node:assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { allDirs } from "../../../native/cgroup/layout.js";
import {
  Cgroup,
  type CgroupLayout,
  type CgroupParentMissingError,
  spawn,
  type WatchedProcess,
} from "../../../native/index.js";

const read = (dir: string | undefined, file: string) =>
  readFileSync(join(dir as string, file), "utf8").trim();
let serial = 0;
const uniqueName = () => `outpost-test-${process.pid}-${++serial}`;

describe("Cgroup on this machine's v1 controllers plus unified tree (hybrid)", function () {
  this.timeout(20_000);
  const own = Cgroup.own();
  const made: Cgroup[] = [];
  const children: WatchedProcess[] = [];
  const create = (layoutOwner: Cgroup = own, limits = {}) => {
    const group = layoutOwner.createChild(uniqueName(), limits);
    made.push(group);
    return group;
  };
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill("SIGKILL");
    for (const g of made.splice(0)) await g.remove();
  });

  it("creates the group below the caller's own cgroup in every hierarchy, and remove() leaves nothing", async () => {
    const group = create();
    assert.equal(
      group.dirs.v1.memory,
      join(own.dirs.v1.memory as string, group.dirs.v1.memory?.split("/").pop() as string),
    );
    const dirs = allDirs(group.dirs);
    assert.ok(dirs.length >= 6);
    for (const dir of dirs) assert.ok(existsSync(dir), dir);
    await group.remove();
    for (const dir of dirs) assert.equal(existsSync(dir), false, dir);
  });

  it("writes cpu quota, shares, RT runtime, memory, pids and cpuset to the v1 controller files", () => {
    const group = create(own, {
      cpuCores: 0.25,
      cpuWeight: 10000,
      rtRuntimeUs: 1000,
      memoryMax: 32 << 20,
      pidsMax: 7,
      cpus: [1],
    });
    assert.equal(read(group.dirs.v1.cpu, "cpu.cfs_quota_us"), "25000");
    assert.equal(read(group.dirs.v1.cpu, "cpu.shares"), "262144");
    assert.equal(read(group.dirs.v1.cpu, "cpu.rt_runtime_us"), "1000");
    assert.equal(read(group.dirs.v1.memory, "memory.limit_in_bytes"), String(32 << 20));
    assert.equal(read(group.dirs.v1.pids, "pids.max"), "7");
    assert.equal(read(group.dirs.v1.cpuset, "cpuset.cpus"), "1");
    assert.equal(
      read(group.dirs.v1.cpuset, "cpuset.mems"),
      read(own.dirs.v1.cpuset, "cpuset.mems"),
    );
  });

  it("rejects bad limits before creating anything", () => {
    const name = uniqueName();
    assert.throws(() => own.createChild(name, { memoryMax: -1 }), RangeError);
    assert.throws(() => own.createChild(name, { cpus: [-1] }), TypeError);
    assert.throws(() => own.createChild("a/b"), TypeError);
    assert.equal(existsSync(join(own.dirs.v1.cpu as string, name)), false);
  });

  it("fails with CgroupParentMissingError naming the directory when the parent does not exist", () => {
    const missing = new Cgroup(own.layout, {
      ...own.dirs,
      v1: { ...own.dirs.v1, pids: join(own.dirs.v1.pids as string, "no-such-parent") },
    });
    assert.throws(
      () => missing.createChild(uniqueName()),
      (err: CgroupParentMissingError) => {
        assert.equal(err.code, "E_CGROUP_PARENT");
        assert.equal(err.path, join(own.dirs.v1.pids as string, "no-such-parent"));
        return true;
      },
    );
  });

  it("OOM-kills a process allocating past memoryMax, and the stats count the kill and the peak", async () => {
    const group = create(own, { memoryMax: 64 << 20 });
    const child = spawn({
      command: process.execPath,
      args: ["-e", "const keep = []; for (;;) keep.push(Buffer.alloc(8 << 20, 1));"],
      cgroup: group,
      stdio: ["ignore", "ignore", "ignore"],
    });
    children.push(child);
    assert.deepEqual(await child.exited, { code: null, signal: "SIGKILL" });
    const stats = group.stats();
    assert.equal(stats.oomKills, 1);
    assert.ok((stats.memoryPeak ?? 0) >= 60 << 20, `peak ${stats.memoryPeak}`);
    assert.ok((stats.cpuUsageUs ?? 0) > 0);
  });

  it("attach() moves a running process into every hierarchy", async () => {
    const group = create();
    const child = spawn({ command: "sleep", args: ["30"] });
    children.push(child);
    group.attach(child.pid);
    const lines = readFileSync(`/proc/${child.pid}/cgroup`, "utf8");
    const name = group.path.split("/").pop() as string;
    for (const controller of ["cpu", "cpuset", "memory", "pids", "freezer"]) {
      assert.match(lines, new RegExp(`:${controller}:.*/${name}\\n`));
    }
    assert.match(lines, new RegExp(`^0::/.*${name}$`, "m"));
    assert.deepEqual(group.procs(), [child.pid]);
  });

  it("remove() kills a child that is still running and leaves no cgroup behind", async () => {
    const group = create();
    const child = spawn({
      command: "sh",
      args: ["-c", "sleep 30 & sleep 30 & wait"],
      cgroup: group,
    });
    children.push(child);
    const dirs = allDirs(group.dirs);
    await group.remove();
    assert.deepEqual(await child.exited, { code: null, signal: "SIGKILL" });
    for (const dir of dirs) assert.equal(existsSync(dir), false, dir);
  });

  describe("without the unified tree (pure v1: freezer and SIGKILL per pid)", () => {
    const v1Layout: CgroupLayout = { ...own.layout, mode: "v1", unified: undefined };
    const v1Own = new Cgroup(v1Layout, { v1: own.dirs.v1 });

    it("freezes and thaws through freezer.state", async () => {
      const group = create(v1Own);
      const child = spawn({ command: "sleep", args: ["30"], cgroup: group });
      children.push(child);
      await group.freeze();
      assert.equal(read(group.dirs.v1.freezer, "freezer.state"), "FROZEN");
      await group.thaw();
      assert.equal(read(group.dirs.v1.freezer, "freezer.state"), "THAWED");
    });

    it("kills every process and removes the group even while it is frozen", async () => {
      const group = create(v1Own);
      const child = spawn({
        command: "sh",
        args: ["-c", "sleep 30 & sleep 30 & wait"],
        cgroup: group,
      });
      children.push(child);
      await group.freeze();
      await group.remove();
      assert.deepEqual(await child.exited, { code: null, signal: "SIGKILL" });
      for (const dir of allDirs(group.dirs)) assert.equal(existsSync(dir), false, dir);
    });
  });
});
