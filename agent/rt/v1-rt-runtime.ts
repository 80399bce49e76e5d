import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Cgroup } from "../../native/index.js";
import { RealtimeSetupError } from "../errors.js";

/**
 * v1 cpu with RT group scheduling: a new group has no RT time, and SCHED_FIFO in it is
 * EPERM. Gives each group of `chain` (the agent's own group first, the process's last)
 * that has none all that its parent has free. No-op without a v1 cpu hierarchy.
 */
export function ensureRtRuntime(chain: readonly Cgroup[]): void {
  for (let i = 1; i < chain.length; i++) {
    const group = chain[i] as Cgroup;
    const parent = chain[i - 1] as Cgroup;
    const dir = group.dirs.v1.cpu;
    if (dir === undefined) return;
    if (Number(readFileSync(join(dir, "cpu.rt_runtime_us"), "utf8")) !== 0) continue;
    const free = parent.freeRtRuntimeUs() ?? 0;
    if (free <= 0) {
      throw new RealtimeSetupError(
        `${parent.dirs.v1.cpu} has no RT runtime left to give (cpu.rt_runtime_us): ` +
          "SCHED_FIFO would be refused; give the agent's cgroup RT time or run it in the root cpu group",
      );
    }
    group.setLimits({ rtRuntimeUs: free });
  }
}
