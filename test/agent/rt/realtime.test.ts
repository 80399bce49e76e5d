import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { removeCgroupTree } from "../../../agent/index.js";
import { applyCpusets } from "../../../agent/rt/cpuset-tree.js";
import { NodeCores } from "../../../agent/rt/node-cores.js";
import { checkRealtime } from "../../../agent/rt/realtime-promise.js";
import {
  Cgroup,
  parseCpuList,
  readCpuTopology,
  readOnlineCpus,
  spawn,
} from "../../../native/index.js";

const cpusOf = (group: Cgroup) =>
  parseCpuList(readFileSync(join(group.dirs.v1.cpuset ?? group.path, "cpuset.cpus"), "utf8"));

describe("agent real time: cpuset trees and the realtime check (real v1 cpusets)", () => {
  const online = readOnlineCpus();
  const [first] = online;
  const last = online.at(-1) as number;
  let root: Cgroup;
  before(() => {
    // What the EBUSY ordering is about; CI machines have 2 CPUs and a v1 cpuset hierarchy.
    assert.ok(online.length >= 2, "needs two CPUs");
    assert.ok(Cgroup.own().dirs.v1.cpuset !== undefined, "needs a v1 cpuset hierarchy");
  });
  beforeEach(() => {
    root = Cgroup.own().createChild(`outpost-test-cpuset-tree-${process.pid}`);
  });
  afterEach(async () => {
    await removeCgroupTree(root);
  });

  it("narrows a parent below its children's CPUs and widens it back, in an order v1 accepts", () => {
    const part = root.createChild("p1");
    const proc = part.createChild("proc-a");
    const targets = (cpus: number[]) => [
      { group: part, cpus },
      { group: proc, cpus },
    ];
    // Writing the parent first would be EBUSY: its child still has every CPU.
    assert.throws(() => part.setLimits({ cpus: [first as number] }), { code: "EBUSY" });
    applyCpusets(targets([first as number]));
    assert.deepEqual(cpusOf(part), [first]);
    assert.deepEqual(cpusOf(proc), [first]);
    applyCpusets(targets(online));
    assert.deepEqual(cpusOf(part), online);
    assert.deepEqual(cpusOf(proc), online);
  });

  it("passes only while the RT process is alone on its cores and fails naming a group that may use them", async () => {
    const rt = root.createChild("proc-rt", { cpus: [last] });
    const other = root.createChild("p2");
    const child = spawn({ command: "sleep", args: ["30"], cgroup: rt, cpus: [last] });
    try {
      const input = {
        processes: [{ name: "rt", pid: () => child.pid, cpus: [last] }],
        cpus: [last],
        confined: () => [other],
        notes: ["noted"],
      };
      const overlapping = checkRealtime(input);
      assert.equal(overlapping.ok, false);
      assert.match(
        overlapping.message ?? "",
        new RegExp(`${other.path} may still use cpu ${last}`),
      );
      other.setLimits({ cpus: online.filter((c) => c !== last) });
      assert.deepEqual(checkRealtime(input), {
        ok: true,
        message: `rt SCHED_OTHER on cpu ${last}; no other partition may use cpu ${last}; noted`,
      });
      const fifo = checkRealtime({
        ...input,
        processes: [
          {
            name: "rt",
            pid: () => child.pid,
            cpus: [last],
            sched: { policy: "fifo", priority: 10 },
          },
        ],
      });
      assert.equal(fifo.ok, false);
      assert.match(fifo.message ?? "", /runs SCHED_OTHER, not SCHED_FIFO 10/);
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
  });

  it("reserves the highest whole core, keeps housekeeping, re-claims what a restart held", () => {
    const cores = new NodeCores(readCpuTopology());
    const held = cores.reserve("plc", 1);
    assert.ok(!held.includes(0), "cpu 0's core stays housekeeping");
    assert.deepEqual(cores.reserve("plc", 1), held, "an instance keeps what it holds");
    cores.release("plc");
    assert.deepEqual(cores.reserve("plc", 1, held), held);
    assert.throws(() => cores.reserve("second", cores.cores.length), { code: "E_RT_OVERCOMMIT" });
  });
});
