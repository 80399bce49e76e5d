import { hasCode } from "../common/errors.js";
import { type CgroupMode, detectCgroupMode } from "./cgroup/mode.js";
import { type CpuTopology, readCpuTopology } from "./cpu-topology.js";
import { readKernelRtParameters } from "./kernel-cmdline.js";
import { type PreemptRt, readPreemptRt } from "./kernel-rt.js";
import { uname } from "./uname.js";

/** What the box offers real-time workloads, as `outpost rt info` reports it. */
export interface SystemInfo {
  kernel: { release: string; version: string; machine: string };
  preemptRt: PreemptRt;
  /** `null` when no cgroup filesystem is mounted. */
  cgroupMode: CgroupMode | null;
  cpus: CpuTopology;
  /** RT-relevant kernel command-line parameters (see `RT_KERNEL_PARAMETERS`). */
  kernelCmdline: Record<string, string | true>;
}

/** Reads everything from the running kernel (uname(2), /proc and /sys). */
export function readSystemInfo(): SystemInfo {
  const u = uname();
  let cgroupMode: CgroupMode | null;
  try {
    cgroupMode = detectCgroupMode();
  } catch (err) {
    if (!hasCode(err, "E_CGROUP_NOT_MOUNTED")) throw err;
    cgroupMode = null;
  }
  return {
    kernel: { release: u.release, version: u.version, machine: u.machine },
    preemptRt: readPreemptRt(u),
    cgroupMode,
    cpus: readCpuTopology(),
    kernelCmdline: readKernelRtParameters(),
  };
}
