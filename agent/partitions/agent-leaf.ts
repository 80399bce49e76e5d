import type { Cgroup } from "../../native/index.js";
import { openOrCreateChild } from "./cgroup-child.js";

/**
 * On pure cgroup v2 a non-root group holding processes cannot give controllers to its
 * children (the "no internal processes" rule), and systemd's `Delegate=yes` hands the
 * agent exactly such a group: its service group with the agent inside. The processes
 * found directly in it (the agent, as systemd started it) move to the leaf
 * `outpost-agent`, so the delegated group can enable cpu, memory and pids for the
 * partitions. Hybrid and v1 hierarchies have no such rule and stay as they are.
 */
export function moveIntoAgentLeaf(own: Cgroup): Cgroup {
  if (own.layout.mode !== "v2" || own.dirs.unified === own.layout.unified) return own;
  const direct = own.procs();
  if (direct.length === 0) return own;
  const leaf = openOrCreateChild(own, "outpost-agent");
  for (const pid of direct) leaf.attach(pid);
  return own;
}
