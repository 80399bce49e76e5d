import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { cpus as osCpus } from "node:os";
import {
  buildCpuTopology,
  type RawCpu,
  type RawCpuTopology,
  readCpuTopology,
  readOnlineCpus,
  readRawCpuTopology,
} from "../../native/index.js";

const cpu = (n: number, coreId: number, packageId: number, siblings: string): RawCpu => ({
  cpu: n,
  coreId: `${coreId}\n`,
  packageId: `${packageId}\n`,
  siblings: `${siblings}\n`,
});

// A two-socket SMT server booted for RT work: socket 1 isolated, nohz_full on it,
// hyperthread siblings numbered N and N+4 as Intel firmware does.
const TWO_SOCKET_RT: RawCpuTopology = {
  online: "0-7\n",
  isolated: "2-3,6-7\n",
  nohzFull: "2-3,6-7\n",
  cpus: [
    cpu(0, 0, 0, "0,4"),
    cpu(1, 1, 0, "1,5"),
    cpu(2, 0, 1, "2,6"),
    cpu(3, 1, 1, "3,7"),
    cpu(4, 0, 0, "0,4"),
    cpu(5, 1, 0, "1,5"),
    cpu(6, 0, 1, "2,6"),
    cpu(7, 1, 1, "3,7"),
  ],
  nodes: [
    { id: 1, cpulist: "2-3,6-7\n" },
    { id: 0, cpulist: "0-1,4-5\n" },
  ],
};

describe("native cpu-topology", () => {
  it("groups SMT siblings into cores per package, even where core ids repeat across sockets", () => {
    const t = buildCpuTopology(TWO_SOCKET_RT);
    assert.equal(t.smt, true);
    assert.deepEqual(t.cores, [
      { package: 0, core: 0, cpus: [0, 4] },
      { package: 0, core: 1, cpus: [1, 5] },
      { package: 1, core: 0, cpus: [2, 6] },
      { package: 1, core: 1, cpus: [3, 7] },
    ]);
    assert.deepEqual(t.packages, [
      { id: 0, cpus: [0, 1, 4, 5] },
      { id: 1, cpus: [2, 3, 6, 7] },
    ]);
    assert.deepEqual(t.nodes, [
      { id: 0, cpus: [0, 1, 4, 5] },
      { id: 1, cpus: [2, 3, 6, 7] },
    ]);
    assert.deepEqual(t.isolated, [2, 3, 6, 7]);
    assert.deepEqual(t.nohzFull, [2, 3, 6, 7]);
  });

  it("tells 'kernel cannot do nohz_full' (no file) from 'nohz_full not set' ((null))", () => {
    const base = { ...TWO_SOCKET_RT, isolated: "\n" };
    assert.equal(buildCpuTopology({ ...base, nohzFull: null }).nohzFull, null);
    assert.deepEqual(buildCpuTopology({ ...base, nohzFull: "(null)\n" }).nohzFull, []);
    assert.deepEqual(buildCpuTopology({ ...base, nohzFull: "\n" }).nohzFull, []);
    assert.deepEqual(buildCpuTopology(base).isolated, []);
  });

  it("reports a single-core-per-thread box without NUMA support as no SMT and no nodes", () => {
    const t = buildCpuTopology({
      online: "0-1\n",
      isolated: null,
      nohzFull: null,
      cpus: [cpu(0, 0, 0, "0"), cpu(1, 1, 0, "1")],
      nodes: [],
    });
    assert.equal(t.smt, false);
    assert.equal(t.cores.length, 2);
    assert.deepEqual(t.nodes, []);
    assert.deepEqual(t.isolated, []);
  });

  it("reads this machine's sysfs: every online CPU in exactly one core, package and node", () => {
    const t = readCpuTopology();
    assert.equal(t.online.length, osCpus().length);
    assert.deepEqual(readOnlineCpus(), t.online);
    for (const groups of [t.cores, t.packages]) {
      const all = groups.flatMap((g) => g.cpus).sort((a, b) => a - b);
      assert.deepEqual(all, t.online);
    }
    assert.ok(t.nodes.length >= 1, "this kernel has NUMA support");
    const nodeCpus = t.nodes.flatMap((n) => n.cpus).sort((a, b) => a - b);
    assert.deepEqual(nodeCpus, t.online);
    const isolated = readFileSync("/sys/devices/system/cpu/isolated", "utf8").trim();
    assert.equal(t.isolated.length === 0, isolated === "");
  });

  it("reads the raw sysfs text the pure builder takes, including each CPU's siblings", () => {
    const raw = readRawCpuTopology();
    assert.equal(raw.cpus.length, readOnlineCpus().length);
    for (const c of raw.cpus) {
      const own = readFileSync(
        `/sys/devices/system/cpu/cpu${c.cpu}/topology/thread_siblings_list`,
        "utf8",
      );
      assert.equal(c.siblings.trim(), own.trim());
    }
  });
});
