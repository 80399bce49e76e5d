import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Cgroup,
  formatCpuList,
  getScheduler,
  parseCpuList,
  type SchedSettings,
} from "../../native/index.js";
import type { ProbeOutcome } from "../promises/probe.js";

/** One RT process as the check sees it. */
export interface RtProcessView {
  name: string;
  /** Its pid while it runs. */
  pid: () => number | undefined;
  cpus: readonly number[];
  sched?: SchedSettings;
}

export interface RtCheckInput {
  processes: readonly RtProcessView[];
  /** The instance's whole cores. */
  cpus: readonly number[];
  /** Groups that must stay off `cpus` (every other partition, builds, this instance's others). */
  confined: () => readonly Cgroup[];
  /** Facts fixed at start (IRQs moved, PM QoS, clamped limits, kernel partition). */
  notes: readonly string[];
}

/** `Cpus_allowed_list` of a process, from /proc. */
export function allowedCpus(pid: number): number[] {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return parseCpuList(/^Cpus_allowed_list:\s*(.*)$/m.exec(status)?.[1] ?? "");
}

const policyText = (s: SchedSettings) =>
  s.policy === "fifo" || s.policy === "rr"
    ? `SCHED_${s.policy.toUpperCase()} ${s.priority}`
    : `SCHED_${s.policy.toUpperCase()}`;

function groupCpus(group: Cgroup): number[] | undefined {
  const v1 = group.dirs.v1.cpuset;
  const file =
    v1 !== undefined
      ? join(v1, "cpuset.effective_cpus")
      : group.dirs.unified && join(group.dirs.unified, "cpuset.cpus.effective");
  return file && existsSync(file) ? parseCpuList(readFileSync(file, "utf8")) : undefined;
}

/**
 * The `realtime` promise: from /proc and the cpusets, every RT process runs with its
 * policy on its cores alone, and no confined group may use them. The message says what
 * holds, so `outpost show` and the status page show the isolation, not just a tick.
 */
export function checkRealtime(input: RtCheckInput): ProbeOutcome {
  const held = new Set(input.cpus);
  const said: string[] = [];
  for (const p of input.processes) {
    const pid = p.pid();
    if (pid === undefined) return { ok: false, message: `${p.name}: not running` };
    const allowed = allowedCpus(pid);
    if (formatCpuList(allowed) !== formatCpuList(p.cpus)) {
      return {
        ok: false,
        message: `${p.name} (pid ${pid}) may run on cpu ${formatCpuList(allowed)}, not cpu ${formatCpuList(p.cpus)} alone`,
      };
    }
    const actual = getScheduler(pid);
    if (
      p.sched &&
      (p.sched.policy === "fifo" || p.sched.policy === "rr") &&
      (actual.policy !== p.sched.policy || actual.priority !== p.sched.priority)
    ) {
      return {
        ok: false,
        message: `${p.name} (pid ${pid}) runs ${policyText(actual)}, not ${policyText(p.sched)}`,
      };
    }
    said.push(`${p.name} ${policyText(actual)} on cpu ${formatCpuList(p.cpus)}`);
  }
  for (const group of input.confined()) {
    const cpus = groupCpus(group);
    const overlap = (cpus ?? []).filter((cpu) => held.has(cpu));
    if (overlap.length > 0) {
      return {
        ok: false,
        message: `${group.path} may still use cpu ${formatCpuList(overlap)} of this instance`,
      };
    }
  }
  said.push(`no other partition may use cpu ${formatCpuList(input.cpus)}`);
  return { ok: true, message: [...said, ...input.notes].join("; ") };
}
