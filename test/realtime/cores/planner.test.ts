import { strict as assert } from "node:assert";
import { buildCpuTopology, type CpuTopology, readCpuTopology } from "../../../native/index.js";
import {
  assignCores,
  CoreOvercommitError,
  claimCores,
  emptyCorePlan,
  releaseCores,
  sharedCpus,
} from "../../../realtime/index.js";

/** 4 cores × 2 threads, siblings n and n+4 (how Intel numbers them). */
function smtBox(online = "0-7"): CpuTopology {
  const cpus = [0, 1, 2, 3, 4, 5, 6, 7].map((cpu) => ({
    cpu,
    coreId: String(cpu % 4),
    packageId: "0",
    siblings: `${cpu % 4},${(cpu % 4) + 4}`,
  }));
  return buildCpuTopology({ online, isolated: null, nohzFull: null, cpus, nodes: [] });
}

describe("realtime core planner", () => {
  it("re-claims exactly the cores an instance held (agent restart), refusing split, held or housekeeping cores", () => {
    let plan = emptyCorePlan(smtBox());
    plan = claimCores(plan, "plc", [1, 5]);
    assert.deepEqual(plan.assigned, { plc: [1, 5] });
    assert.throws(
      () => claimCores(plan, "gnb", [2]),
      /cpu 2 are not whole cores \(their cores: cpu 2,6\)/,
    );
    assert.throws(() => claimCores(plan, "gnb", [1, 5]), CoreOvercommitError);
    assert.throws(
      () => claimCores(plan, "gnb", [0, 4]),
      (err: CoreOvercommitError) =>
        err.code === "E_RT_OVERCOMMIT" && /housekeeping keeps cpu 0,4/.test(err.message),
    );
    assert.throws(() => claimCores(plan, "gnb", [9]), /cpu 9 are not usable cores/);
    assert.deepEqual(assignCores(plan, "gnb", 2).assigned.gnb, [2, 3, 6, 7]);
  });

  it("gives RT instances whole SMT cores (both siblings), highest first, and keeps core 0 for housekeeping", () => {
    let plan = emptyCorePlan(smtBox());
    plan = assignCores(plan, "gnb", 2);
    plan = assignCores(plan, "plc", 1);
    assert.deepEqual(plan.assigned, { gnb: [2, 3, 6, 7], plc: [1, 5] });
    assert.deepEqual(sharedCpus(plan), [0, 4]);
    const rt = new Set(Object.values(plan.assigned).flat());
    for (const core of plan.cores) {
      const inRt = core.filter((cpu) => rt.has(cpu)).length;
      assert.ok(inRt === 0 || inRt === core.length, `core ${core} split between RT and non-RT`);
    }
  });

  it("never hands out a core whose sibling is offline", () => {
    const plan = emptyCorePlan(smtBox("0-6"));
    assert.deepEqual(plan.cores, [
      [0, 4],
      [1, 5],
      [2, 6],
    ]);
    assert.deepEqual(assignCores(plan, "plc", 2).assigned.plc, [1, 2, 5, 6]);
  });

  it("refuses overcommit naming what was asked and what is free, and the housekeeping it keeps", () => {
    const plan = assignCores(emptyCorePlan(smtBox()), "gnb", 2);
    assert.throws(
      () => assignCores(plan, "plc", 2),
      (err: unknown) =>
        err instanceof CoreOvercommitError &&
        err.code === "E_RT_OVERCOMMIT" &&
        err.message ===
          "instance plc asks for 2 whole core(s) but 1 is free (cpu 1,5); housekeeping keeps cpu 0,4",
    );
  });

  it("keeps at least one housekeeping core even when asked for every core", () => {
    assert.throws(() => assignCores(emptyCorePlan(smtBox()), "all", 4), CoreOvercommitError);
    assert.throws(() => emptyCorePlan(smtBox(), 0), RangeError);
  });

  it("returns released cores to the pool", () => {
    const plan = assignCores(emptyCorePlan(smtBox()), "plc", 3);
    assert.deepEqual(sharedCpus(plan), [0, 4]);
    const released = releaseCores(plan, "plc");
    assert.deepEqual(released.assigned, {});
    assert.deepEqual(sharedCpus(released), [0, 4, 1, 5, 2, 6, 3, 7]);
    assert.deepEqual(assignCores(released, "next", 3).assigned.next, [1, 2, 3, 5, 6, 7]);
  });

  it("plans this 2-core machine: cpu 1 for one RT instance, cpu 0 housekeeping, a second refused", () => {
    const plan = emptyCorePlan(readCpuTopology());
    const total = plan.cores.length;
    const given = assignCores(plan, "plc", total - 1);
    assert.deepEqual(sharedCpus(given), plan.cores[0]);
    assert.throws(() => assignCores(given, "more", 1), /0 are free \(none\)/);
  });
});
