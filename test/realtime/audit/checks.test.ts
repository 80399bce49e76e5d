import { strict as assert } from "node:assert";
import { buildCpuTopology } from "../../../native/index.js";
import { type AuditInputs, auditChecks, auditVerdict } from "../../../realtime/index.js";

/** A 4-core box; `tuned` is what a PREEMPT_RT gNodeB host looks like after tuning. */
function box(tuned: boolean): AuditInputs {
  const cpus = buildCpuTopology({
    online: "0-3",
    isolated: tuned ? "1-3" : "",
    nohzFull: tuned ? "1-3" : "(null)",
    cpus: [0, 1, 2, 3].map((cpu) => ({
      cpu,
      coreId: String(cpu),
      packageId: "0",
      siblings: String(cpu),
    })),
    nodes: [{ id: 0, cpulist: "0-3" }],
  });
  return {
    system: {
      kernel: {
        release: tuned ? "6.1.0-27-rt-amd64" : "6.1.0-27-amd64",
        version: tuned
          ? "#1 SMP PREEMPT_RT Debian 6.1.115-1"
          : "#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1",
        machine: "x86_64",
      },
      preemptRt: {
        verdict: tuned,
        signals: { sysKernelRealtime: tuned, unameVersion: tuned, kernelConfig: tuned },
        kernelConfigSource: "/boot/config-6.1.0-27-amd64",
      },
      cpus,
      kernelCmdline: tuned
        ? { isolcpus: "managed_irq,domain,1-3", nohz_full: "1-3", rcu_nocbs: "1-3" }
        : {},
    },
    governors: {
      0: "performance",
      1: "performance",
      2: tuned ? "performance" : "schedutil",
      3: "performance",
    },
    idleStates: {
      0: [{ name: "POLL", latencyUs: 0 }],
      1: tuned ? [] : [{ name: "C6", latencyUs: 133 }],
    },
    thp: tuned ? "madvise" : "always",
    rtRuntimeUs: tuned ? -1 : 950000,
    swaps: tuned ? [] : ["/swapfile file 1048572 0 -2"],
    irqAffinities: { 24: [0], 25: tuned ? [0] : [0, 1, 2, 3] },
    timerMigration: tuned ? 0 : 1,
  };
}

describe("realtime audit checks", () => {
  it("passes every check on a tuned PREEMPT_RT box", () => {
    const checks = auditChecks(box(true));
    assert.deepEqual(
      checks.filter((c) => c.status !== "pass"),
      [],
    );
    assert.equal(auditVerdict(checks), "pass");
    assert.ok(checks.every((c) => c.remedy === undefined));
  });

  it("fails a non-RT kernel and warns on each untuned setting, every one with its exact remedy", () => {
    const checks = auditChecks(box(false));
    const byId = Object.fromEntries(checks.map((c) => [c.id, c]));
    assert.equal(byId["preempt-rt"]?.status, "fail");
    assert.match(byId["preempt-rt"]?.remedy ?? "", /apt-get install linux-image-rt-amd64/);
    assert.match(
      byId.isolcpus?.remedy ?? "",
      /isolcpus=managed_irq,domain,1-3 to GRUB_CMDLINE_LINUX/,
    );
    assert.match(byId.nohz_full?.remedy ?? "", /nohz_full=1-3/);
    assert.match(byId["cpu-governor"]?.detail ?? "", /cpu 2 run governor schedutil/);
    assert.match(byId["cpu-governor"]?.remedy ?? "", /for c in 2; do echo performance/);
    assert.match(byId["idle-states"]?.detail ?? "", /C6: 133 µs/);
    assert.match(
      byId.thp?.remedy ?? "",
      /echo madvise > \/sys\/kernel\/mm\/transparent_hugepage\/enabled/,
    );
    assert.match(byId["rt-throttling"]?.remedy ?? "", /sched_rt_runtime_us=-1/);
    assert.equal(byId.swap?.status, "warn");
    assert.equal(
      byId["timer-migration"]?.remedy,
      "sysctl -w kernel.timer_migration=0 (persist in /etc/sysctl.d/)",
    );
    assert.ok(checks.filter((c) => c.status !== "pass").every((c) => (c.remedy ?? "").length > 0));
    assert.equal(auditVerdict(checks), "fail");
  });

  it("warns about IRQs that may land on CPUs isolated at boot, naming them", () => {
    const inputs = box(true);
    inputs.irqAffinities[30] = [0, 2];
    const irq = auditChecks(inputs).find((c) => c.id === "irq-affinity");
    assert.equal(irq?.status, "warn");
    assert.match(irq?.detail ?? "", /IRQ 30 may land on isolated cpu 1-3/);
    assert.match(irq?.remedy ?? "", /irqaffinity=0/);
  });
});
