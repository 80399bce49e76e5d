import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ensurePartition,
  ensurePartitions,
  type Partition,
  type PartitionOptions,
  removeCgroupTree,
  removePartition,
  removeSystemUser,
  resetPartition,
} from "../../agent/index.js";
import { Cgroup, resolveUser, spawn } from "../../native/index.js";

function accountExists(name: string): boolean {
  return readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .some((l) => l.startsWith(`${name}:`));
}

function groupExists(name: string): boolean {
  return readFileSync("/etc/group", "utf8")
    .split("\n")
    .some((l) => l.startsWith(`${name}:`));
}

describe("agent partitions (real accounts, directories and cgroups)", function () {
  this.timeout(30_000);
  let root: string;
  let parent: Cgroup;
  let options: PartitionOptions;
  let made: Partition[] = [];

  before(() => {
    root = mkdtempSync(join(tmpdir(), "outpost-agent-part-"));
    // As the agent's data directory: traversable, so only the partition's own mode protects it.
    chmodSync(root, 0o711);
    parent = Cgroup.own().createChild(`outpost-test-agent-part-${process.pid}`);
    options = {
      root,
      logRoot: join(root, "logs"),
      userPrefix: `otp${randomBytes(3).toString("hex")}-`,
      isolated: true,
      cgroupParent: parent,
    };
  });

  after(async () => {
    try {
      for (const p of made) await removePartition(options, p);
    } finally {
      await removeCgroupTree(parent);
      for (const n of [1, 2, 3]) removeSystemUser(`${options.userPrefix}${n}`);
      rmSync(root, { recursive: true, force: true });
    }
    for (const p of made) {
      assert.ok(!accountExists(p.user), `account ${p.user} left behind`);
      assert.ok(!groupExists(p.user), `group ${p.user} left behind`);
    }
  });

  it("gives each partition its own account, 0750 directory, 127.0.1.N address and cgroup", () => {
    made = ensurePartitions(options, 2);
    assert.deepEqual(
      made.map((p) => [p.number, p.user, p.address]),
      [
        [1, `${options.userPrefix}1`, "127.0.1.1"],
        [2, `${options.userPrefix}2`, "127.0.1.2"],
      ],
    );
    for (const p of made) {
      const user = resolveUser(p.user);
      assert.notEqual(user.uid, 0);
      const st = statSync(p.path);
      assert.equal(st.mode & 0o7777, 0o750);
      assert.equal(st.uid, user.uid);
      assert.equal(st.gid, user.gid);
      assert.ok(p.cgroup);
      assert.ok(existsSync(p.cgroup.path));
      assert.ok(p.cgroup.path.startsWith(parent.path));
      const logs = statSync(p.logPath);
      assert.deepEqual([logs.uid, logs.gid, logs.mode & 0o7777], [0, user.gid, 0o750]);
    }
    assert.notEqual(made[0]?.uid, made[1]?.uid);
  });

  it("keeps another partition's user out of a partition's files", () => {
    const [p1, p2] = made as [Partition, Partition];
    writeFileSync(join(p1.path, "secret"), "p1 only\n");
    const asP2 = spawnSync("cat", [join(p1.path, "secret")], { uid: p2.uid, gid: p2.gid });
    assert.notEqual(asP2.status, 0);
    assert.match(asP2.stderr.toString(), /Permission denied/);
    const asP1 = spawnSync("cat", [join(p1.path, "secret")], { uid: p1.uid, gid: p1.gid });
    assert.equal(asP1.stdout.toString(), "p1 only\n");
  });

  it("is idempotent: a second start keeps files, account and running processes", async () => {
    const p1 = made[0] as Partition;
    const child = spawn({ command: "sleep", args: ["30"], user: p1.user, cgroup: p1.cgroup });
    try {
      const again = ensurePartition(options, 1);
      assert.equal(again.uid, p1.uid);
      assert.equal(again.cgroup?.path, p1.cgroup?.path);
      assert.deepEqual(again.cgroup?.procs(), [child.pid]);
      assert.ok(existsSync(join(p1.path, "secret")));
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
  });

  it("repairs a partition directory whose mode drifted", () => {
    const p2 = made[1] as Partition;
    spawnSync("chmod", ["0755", p2.path]);
    ensurePartition(options, 2);
    assert.equal(statSync(p2.path).mode & 0o7777, 0o750);
  });

  it("reset kills the partition's processes and removes its files, logs and cgroup", async () => {
    const p1 = made[0] as Partition;
    writeFileSync(join(p1.logPath, "server.log"), "old\n");
    const child = spawn({ command: "sleep", args: ["30"], user: p1.user, cgroup: p1.cgroup });
    await resetPartition(p1);
    assert.equal((await child.exited).signal, "SIGKILL");
    assert.deepEqual(readdirSync(p1.path), []);
    assert.deepEqual(readdirSync(p1.logPath), []);
    assert.ok(!existsSync(p1.cgroup?.path ?? ""));
    made[0] = ensurePartition(options, 1);
    assert.ok(existsSync(made[0].cgroup?.path ?? ""));
  });

  it("holds each partition's group to the node's instance limits (memory, tasks, CPU)", () => {
    const instance = { memory: 64 * 1024 ** 2, pids: 100, cpu: 0.5, openFiles: 256, disk: null };
    const promise = { memory: 1024 ** 2, pids: 8, cpu: 0.1, openFiles: 64 };
    // An existing partition (an agent restart with limits) gets them as a new one does.
    const p = ensurePartition({ ...options, limits: { instance, promise } }, 2);
    made[1] = p;
    assert.equal(p.limitsError, undefined);
    assert.deepEqual(p.limits, { instance, promise });
    const dirs = p.cgroup?.dirs;
    assert.ok(dirs);
    const read = (dir: string | undefined, file: string) =>
      dir && existsSync(join(dir, file)) ? readFileSync(join(dir, file), "utf8").trim() : undefined;
    assert.equal(read(dirs.v1.pids ?? dirs.unified, "pids.max"), "100");
    assert.equal(
      read(dirs.v1.memory, "memory.limit_in_bytes") ?? read(dirs.unified, "memory.max"),
      String(64 * 1024 ** 2),
    );
    assert.match(
      read(dirs.v1.cpu, "cpu.cfs_quota_us") ?? read(dirs.unified, "cpu.max") ?? "",
      /^50000( 100000)?$/,
    );
  });

  it("refuses partition numbers outside 1..254", () => {
    assert.throws(() => ensurePartition(options, 0), RangeError);
    assert.throws(() => ensurePartition(options, 255), RangeError);
  });

  it("runs everything as the invoking user without a cgroup in laptop mode", () => {
    const laptop = ensurePartition({ ...options, isolated: false, root: join(root, "laptop") }, 3);
    assert.equal(laptop.uid, process.getuid?.());
    assert.equal(laptop.cgroup, undefined);
    assert.ok(!accountExists(laptop.user));
    assert.ok(statSync(laptop.path).isDirectory());
  });
});
