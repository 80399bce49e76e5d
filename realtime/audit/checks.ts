import { formatCpuList } from "../../native/index.js";
import type { AuditInputs } from "./inputs.js";

export type AuditStatus = "pass" | "warn" | "fail";

export interface AuditCheck {
  id: string;
  status: AuditStatus;
  /** What was found. */
  detail: string;
  /** The exact change that makes it pass; absent on `pass`. */
  remedy?: string;
}

/** Idle states slower to leave than this hurt a 50 µs budget unless PM QoS holds them off. */
const IDLE_EXIT_BUDGET_US = 10;

const list = (cpus: readonly number[]) => formatCpuList(cpus);

/** CPUs a tuned box would isolate: every core but the first (housekeeping). */
function rtCandidates(inputs: AuditInputs): number[] {
  const first = new Set(inputs.system.cpus.cores[0]?.cpus ?? [0]);
  return inputs.system.cpus.online.filter((cpu) => !first.has(cpu));
}

function bootParamsRemedy(params: string): string {
  return (
    `add ${params} to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub and reboot ` +
    "(on boards: the bootloader's kernel command line)"
  );
}

function preemptRt(inputs: AuditInputs): AuditCheck {
  const { verdict } = inputs.system.preemptRt;
  const kernel = `${inputs.system.kernel.release} (${inputs.system.kernel.version})`;
  if (verdict) return { id: "preempt-rt", status: "pass", detail: `PREEMPT_RT kernel ${kernel}` };
  const arch = inputs.system.kernel.machine === "aarch64" ? "arm64" : "amd64";
  return {
    id: "preempt-rt",
    status: "fail",
    detail: `kernel ${kernel} is not PREEMPT_RT: latency bounds cannot be promised`,
    remedy: `install a PREEMPT_RT kernel (Debian: apt-get install linux-image-rt-${arch}) and reboot into it`,
  };
}

function bootIsolation(inputs: AuditInputs): AuditCheck[] {
  const cmdline = inputs.system.kernelCmdline;
  const rt = list(rtCandidates(inputs));
  const wanted: [string, string][] = [
    ["isolcpus", `isolcpus=managed_irq,domain,${rt}`],
    ["nohz_full", `nohz_full=${rt}`],
    ["rcu_nocbs", `rcu_nocbs=${rt}`],
  ];
  return wanted.map(([key, param]) => {
    const value = cmdline[key];
    if (value !== undefined) {
      return { id: key, status: "pass", detail: `${key}=${value === true ? "" : value}` };
    }
    return {
      id: key,
      status: "warn",
      detail: `no ${key}= on the kernel command line`,
      remedy:
        rtCandidates(inputs).length === 0
          ? "only one core: nothing to isolate"
          : bootParamsRemedy(param),
    };
  });
}

function governor(inputs: AuditInputs): AuditCheck {
  const slow = Object.entries(inputs.governors).filter(([, g]) => g !== "performance");
  if (Object.keys(inputs.governors).length === 0) {
    return { id: "cpu-governor", status: "pass", detail: "no cpufreq: the clock is fixed" };
  }
  if (slow.length === 0)
    return { id: "cpu-governor", status: "pass", detail: "performance on every CPU" };
  const cpus = slow.map(([cpu]) => Number(cpu));
  return {
    id: "cpu-governor",
    status: "warn",
    detail: `cpu ${list(cpus)} run governor ${[...new Set(slow.map(([, g]) => g))].join(", ")}`,
    remedy: `for c in ${cpus.join(" ")}; do echo performance > /sys/devices/system/cpu/cpu$c/cpufreq/scaling_governor; done`,
  };
}

function idleStates(inputs: AuditInputs): AuditCheck {
  const deep = Object.entries(inputs.idleStates).flatMap(([cpu, states]) =>
    states
      .filter((s) => s.latencyUs > IDLE_EXIT_BUDGET_US)
      .map((s) => ({ cpu: Number(cpu), ...s })),
  );
  if (deep.length === 0) {
    return {
      id: "idle-states",
      status: "pass",
      detail: `no enabled idle state exits slower than ${IDLE_EXIT_BUDGET_US} µs`,
    };
  }
  const worst = deep.reduce((a, b) => (b.latencyUs > a.latencyUs ? b : a));
  return {
    id: "idle-states",
    status: "warn",
    detail: `${deep.length} enabled idle state(s) exit slower than ${IDLE_EXIT_BUDGET_US} µs (worst ${worst.name}: ${worst.latencyUs} µs)`,
    remedy:
      "use the sdr-gnb profile (holds /dev/cpu_dma_latency at 0 while it runs) or " +
      bootParamsRemedy("processor.max_cstate=1 intel_idle.max_cstate=0"),
  };
}

function thp(inputs: AuditInputs): AuditCheck {
  if (inputs.thp === null || inputs.thp !== "always") {
    return {
      id: "thp",
      status: "pass",
      detail: `transparent hugepages: ${inputs.thp ?? "not built in"}`,
    };
  }
  return {
    id: "thp",
    status: "warn",
    detail: "transparent hugepages always on: khugepaged compaction stalls RT tasks",
    remedy:
      "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled (boot: transparent_hugepage=madvise)",
  };
}

function rtThrottling(inputs: AuditInputs): AuditCheck {
  if (inputs.rtRuntimeUs === -1)
    return { id: "rt-throttling", status: "pass", detail: "RT throttling off" };
  return {
    id: "rt-throttling",
    status: "warn",
    detail: `RT tasks are stopped after ${inputs.rtRuntimeUs} µs of each period (kernel.sched_rt_runtime_us)`,
    remedy:
      "use the sdr-gnb profile (lifts it while the instance runs, restored after) or sysctl -w kernel.sched_rt_runtime_us=-1",
  };
}

function swap(inputs: AuditInputs): AuditCheck {
  if (inputs.swaps.length === 0) return { id: "swap", status: "pass", detail: "no swap" };
  return {
    id: "swap",
    status: "warn",
    detail: `${inputs.swaps.length} swap area(s) active: unlocked pages of RT tasks may be swapped out`,
    remedy:
      "swapoff -a and remove swap from /etc/fstab, or give RT workloads memlock (plc and sdr-gnb profiles do)",
  };
}

function irqAffinity(inputs: AuditInputs): AuditCheck {
  const isolated = new Set(inputs.system.cpus.isolated);
  if (isolated.size === 0) {
    return {
      id: "irq-affinity",
      status: "pass",
      detail:
        "no CPU isolated at boot; Outpost steers movable IRQs off an RT instance's cores while it runs",
    };
  }
  const onIsolated = Object.entries(inputs.irqAffinities)
    .filter(([, cpus]) => cpus.some((cpu) => isolated.has(cpu)))
    .map(([irq]) => Number(irq));
  if (onIsolated.length === 0) {
    return {
      id: "irq-affinity",
      status: "pass",
      detail: `no IRQ may land on isolated cpu ${list([...isolated])}`,
    };
  }
  return {
    id: "irq-affinity",
    status: "warn",
    detail: `IRQ ${onIsolated.join(", ")} may land on isolated cpu ${list([...isolated])}`,
    remedy: bootParamsRemedy(
      `irqaffinity=${list(inputs.system.cpus.online.filter((c) => !isolated.has(c)))}`,
    ),
  };
}

function timerMigration(inputs: AuditInputs): AuditCheck {
  if (inputs.timerMigration === null || inputs.timerMigration === 0) {
    return {
      id: "timer-migration",
      status: "pass",
      detail: "timers stay on the CPU that armed them",
    };
  }
  return {
    id: "timer-migration",
    status: "warn",
    detail: "kernel.timer_migration=1: timers of idle CPUs may move onto RT cores",
    remedy: "sysctl -w kernel.timer_migration=0 (persist in /etc/sysctl.d/)",
  };
}

/** Pure: every check, in a fixed order. */
export function auditChecks(inputs: AuditInputs): AuditCheck[] {
  return [
    preemptRt(inputs),
    ...bootIsolation(inputs),
    governor(inputs),
    idleStates(inputs),
    thp(inputs),
    rtThrottling(inputs),
    swap(inputs),
    irqAffinity(inputs),
    timerMigration(inputs),
  ];
}

/** The worst status among the checks. */
export function auditVerdict(checks: readonly AuditCheck[]): AuditStatus {
  if (checks.some((c) => c.status === "fail")) return "fail";
  return checks.some((c) => c.status === "warn") ? "warn" : "pass";
}
