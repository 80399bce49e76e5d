import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseCpuList, readSystemInfo, type SystemInfo } from "../../native/index.js";
import { irqAffinityPath, listIrqs } from "../knobs/irq-steering.js";

/** Everything the audit judges, read once; pure checks take it (tested with other boxes' values). */
export interface AuditInputs {
  system: Pick<SystemInfo, "kernel" | "preemptRt" | "cpus" | "kernelCmdline">;
  /** CPU → cpufreq governor; empty when the box has no cpufreq (VM, fixed clock). */
  governors: Record<number, string>;
  /** CPU → enabled idle states as `name:exit latency µs`; empty without cpuidle. */
  idleStates: Record<number, { name: string; latencyUs: number }[]>;
  /** `transparent_hugepage/enabled`'s selected word; `null` when THP is not built in. */
  thp: string | null;
  /** `sched_rt_runtime_us`. */
  rtRuntimeUs: number;
  /** Active swap areas (`/proc/swaps` rows). */
  swaps: string[];
  /** IRQ → CPUs it may land on. */
  irqAffinities: Record<number, number[]>;
  /** `kernel.timer_migration`; `null` when the kernel lacks it. */
  timerMigration: number | null;
}

function readOr<T>(path: string, parse: (text: string) => T, missing: T): T {
  try {
    return parse(readFileSync(path, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return missing;
    throw err;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

function readIdleStates(cpu: number): { name: string; latencyUs: number }[] {
  const dir = `/sys/devices/system/cpu/cpu${cpu}/cpuidle`;
  return listDir(dir)
    .filter((s) => /^state\d+$/.test(s))
    .filter((s) => readOr(join(dir, s, "disable"), (t) => t.trim() === "0", true))
    .map((s) => ({
      name: readFileSync(join(dir, s, "name"), "utf8").trim(),
      latencyUs: Number(readFileSync(join(dir, s, "latency"), "utf8")),
    }));
}

/** Reads the running kernel's settings from /proc and /sys. */
export function readAuditInputs(): AuditInputs {
  const system = readSystemInfo();
  const online = system.cpus.online;
  const governors: Record<number, string> = {};
  const idleStates: AuditInputs["idleStates"] = {};
  for (const cpu of online) {
    const governor = readOr(
      `/sys/devices/system/cpu/cpu${cpu}/cpufreq/scaling_governor`,
      (t) => t.trim(),
      null,
    );
    if (governor !== null) governors[cpu] = governor;
    idleStates[cpu] = readIdleStates(cpu);
  }
  const irqAffinities: Record<number, number[]> = {};
  for (const irq of listIrqs()) {
    irqAffinities[irq] = readOr(irqAffinityPath(irq), parseCpuList, []);
  }
  return {
    system,
    governors,
    idleStates,
    thp: readOr(
      "/sys/kernel/mm/transparent_hugepage/enabled",
      (t) => /\[(\w+)\]/.exec(t)?.[1] ?? t.trim(),
      null,
    ),
    rtRuntimeUs: Number(readFileSync("/proc/sys/kernel/sched_rt_runtime_us", "utf8")),
    swaps: readFileSync("/proc/swaps", "utf8")
      .split("\n")
      .slice(1)
      .filter((l) => l.trim() !== ""),
    irqAffinities,
    timerMigration: readOr("/proc/sys/kernel/timer_migration", Number, null),
  };
}
