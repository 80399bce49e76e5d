import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Cgroup,
  getScheduler,
  parseCpuList,
  readCpuTopology,
  spawn,
  type WatchedProcess,
} from "../../native/index.js";
import {
  assignCores,
  createRtPartition,
  emptyCorePlan,
  irqAffinityPath,
  KnobJournal,
  listIrqs,
  releaseCores,
  releaseRtPartition,
  resolveRealtimeSpec,
  sharedCpus,
  steerIrqsOff,
} from "../../realtime/index.js";
import { assertNoRunningDemo } from "../helpers/running-demo.js";

/** What the kernel lets a process run on, from /proc. */
function allowedCpus(pid: number): number[] {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const line = /^Cpus_allowed_list:\s*(.*)$/m.exec(status);
  assert.ok(line, `no Cpus_allowed_list for ${pid}`);
  return parseCpuList(line[1] ?? "");
}

const irqAffinities = () =>
  listIrqs().map((irq) => `${irq}:${readFileSync(irqAffinityPath(irq), "utf8").trim()}`);

/** `policy` from /proc/PID/sched: 1 is SCHED_FIFO. */
function procPolicy(pid: number): number {
  const sched = readFileSync(`/proc/${pid}/sched`, "utf8");
  return Number(/^policy\s*:\s*(\d+)$/m.exec(sched)?.[1]);
}

describe("realtime: a plc instance end to end, without the agent (planner, v1 partition, spawn, IRQs)", function () {
  this.timeout(20_000);
  before(assertNoRunningDemo);
  const own = Cgroup.own();
  const made: Cgroup[] = [];
  const procs: WatchedProcess[] = [];
  let dir: string;
  let journal: KnobJournal;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-plc-"));
    journal = new KnobJournal(join(dir, "knobs.json"));
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) p.kill("SIGKILL");
    journal.recover();
    for (const g of made.splice(0).reverse()) await g.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs SCHED_FIFO on a core no other partition's process may use, with IRQs moved off, and gives the core back on destroy", async () => {
    const plc = resolveRealtimeSpec({ profile: "plc", priority: 70 });
    let plan = emptyCorePlan(readCpuTopology());
    const shared0 = sharedCpus(plan);
    plan = assignCores(plan, "plc-1", plc.cores);
    const cores = plan.assigned["plc-1"] ?? [];
    const shared = sharedCpus(plan);

    const irqsBefore = irqAffinities();
    const other = own.createChild(`outpost-rt-web-${process.pid}`, { cpus: shared0 });
    made.push(other);
    const web = spawn({ command: "sleep", args: ["30"], cgroup: other });
    procs.push(web);
    assert.deepEqual(allowedCpus(web.pid), shared0);

    const group = await createRtPartition(own, `outpost-rt-plc-${process.pid}`, cores, {
      shared,
      others: [other],
    });
    made.push(group);
    const steering = steerIrqsOff(journal, "plc-1", cores, shared);
    const task = spawn({
      command: "sleep",
      args: ["30"],
      cgroup: group,
      cpus: cores,
      sched: plc.sched,
      // Not plc.rlimits: this container lacks CAP_SYS_RESOURCE, so raising the hard
      // RTPRIO/MEMLOCK limits is EPERM here (root's CAP_SYS_NICE still allows SCHED_FIFO).
    });
    procs.push(task);

    assert.deepEqual(getScheduler(task.pid), { policy: "fifo", priority: 70 });
    assert.equal(procPolicy(task.pid), 1);
    assert.deepEqual(allowedCpus(task.pid), cores);
    assert.deepEqual(
      allowedCpus(web.pid),
      shared,
      "the other partition's process left the RT core",
    );
    for (const irq of steering.moved) {
      const cpus = parseCpuList(readFileSync(irqAffinityPath(irq), "utf8"));
      assert.ok(!cpus.some((c) => cores.includes(c)), `IRQ ${irq} still may land on ${cores}`);
    }
    assert.ok(steering.moved.length > 0);

    task.kill("SIGKILL");
    await task.exited;
    plan = releaseCores(plan, "plc-1");
    await releaseRtPartition(made.pop() as Cgroup, { shared: sharedCpus(plan), others: [other] });
    assert.deepEqual(journal.release("plc-1"), []);
    assert.deepEqual(sharedCpus(plan), shared0);
    assert.deepEqual(allowedCpus(web.pid), shared0, "released cores are back in the pool");
    assert.deepEqual(irqAffinities(), irqsBefore, "IRQ affinities restored");
  });
});
