import { strict as assert } from "node:assert";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cgroup, CgroupPartitionInvalidError } from "../../../native/index.js";
import {
  CpusetConflictError,
  checkRtPartition,
  createRtPartition,
  isolateCpus,
  releaseRtPartition,
} from "../../../realtime/index.js";
import { assertNoRunningDemo } from "../../helpers/running-demo.js";

const read = (dir: string | undefined, file: string) =>
  readFileSync(join(dir as string, file), "utf8").trim();

describe("realtime cpu partitions on this machine's v1 cpuset (below the test's own cgroup)", function () {
  this.timeout(20_000);
  before(assertNoRunningDemo);
  const made: Cgroup[] = [];
  afterEach(async () => {
    for (const g of made.splice(0).reverse()) await g.remove();
  });

  it("makes an exclusive cpuset with load balancing off on cpu 1 after confining the other partition to cpu 0, and undoes it on release", async () => {
    const own = Cgroup.own();
    const other = own.createChild(`outpost-rt-other-${process.pid}`, { cpus: [0, 1] });
    made.push(other);
    const rt = await createRtPartition(own, `outpost-rt-plc-${process.pid}`, [1], {
      shared: [0],
      others: [other],
    });
    made.push(rt);
    assert.equal(read(other.dirs.v1.cpuset, "cpuset.cpus"), "0");
    assert.equal(read(rt.dirs.v1.cpuset, "cpuset.cpus"), "1");
    assert.equal(read(rt.dirs.v1.cpuset, "cpuset.cpu_exclusive"), "1");
    assert.equal(read(rt.dirs.v1.cpuset, "cpuset.sched_load_balance"), "0");
    await releaseRtPartition(made.pop() as Cgroup, { shared: [0, 1], others: [other] });
    assert.equal(existsSync(rt.dirs.v1.cpuset as string), false);
    assert.equal(read(other.dirs.v1.cpuset, "cpuset.cpus"), "0-1");
  });

  it("names the sibling still holding the CPUs when the kernel refuses exclusivity, and leaves no group behind", async () => {
    const own = Cgroup.own();
    const holder = own.createChild(`outpost-rt-holder-${process.pid}`, { cpus: [0, 1] });
    made.push(holder);
    const name = `outpost-rt-refused-${process.pid}`;
    await assert.rejects(
      createRtPartition(own, name, [1], { shared: [0] }),
      (err: unknown) =>
        err instanceof CpusetConflictError &&
        err.code === "E_RT_CPUSET_CONFLICT" &&
        err.holders.some((h) => h.path === holder.dirs.v1.cpuset) &&
        err.message.includes(`sibling ${holder.dirs.v1.cpuset} (cpu 0-1)`),
    );
    assert.equal(existsSync(join(own.dirs.v1.cpuset as string, name)), false);
  });

  it("refuses to isolate every CPU: the parent keeps at least one", () => {
    const own = Cgroup.own();
    assert.throws(
      () => isolateCpus(own, [0, 1], { shared: [] }),
      /parent must keep at least one CPU/,
    );
    assert.throws(
      () => isolateCpus(own, [1], { shared: [0, 1] }),
      /cpu 1 cannot be both shared and isolated/,
    );
  });
});

describe("realtime cpu partitions on cgroup v2 (temp dir laid out like cgroupfs: this kernel's unified tree has no cpuset)", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "outpost-rt-v2-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function v2Group(name: string, partitionReadBack: string): Cgroup {
    const dir = join(root, name);
    mkdirSync(dir);
    for (const f of ["cpuset.cpus", "cpuset.mems"]) writeFileSync(join(dir, f), "");
    writeFileSync(join(dir, "cgroup.controllers"), "cpuset cpu memory pids\n");
    writeFileSync(join(dir, "cpuset.cpus.partition"), partitionReadBack);
    return new Cgroup({ mode: "v2", unified: root, v1: {} }, { unified: dir, v1: {} });
  }

  it("writes the shared CPUs to the other partitions before the isolated partition takes its CPUs", () => {
    const other = v2Group("web", "member");
    const rt = v2Group("plc", "");
    isolateCpus(rt, [2, 3], { shared: [0, 1], others: [other] });
    assert.equal(read(other.dirs.unified, "cpuset.cpus"), "0-1");
    assert.equal(read(rt.dirs.unified, "cpuset.cpus"), "2-3");
    assert.equal(read(rt.dirs.unified, "cpuset.cpus.partition"), "isolated");
  });

  it("detects a partition that later reads back 'isolated invalid' (the file's content stands in for the kernel's read-back)", () => {
    const rt = v2Group("plc", "");
    isolateCpus(rt, [2], { shared: [0] });
    assert.doesNotThrow(() => checkRtPartition(rt));
    const reason = "isolated invalid (Cpu list in cpuset.cpus not exclusive)";
    writeFileSync(join(rt.dirs.unified as string, "cpuset.cpus.partition"), reason);
    assert.throws(
      () => checkRtPartition(rt),
      (err: unknown) => err instanceof CgroupPartitionInvalidError && err.state === reason,
    );
  });
});
