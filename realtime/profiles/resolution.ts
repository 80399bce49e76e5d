import type { Rlimit, SchedSettings } from "../../native/index.js";
import { RealtimeError } from "../errors.js";
import { PROFILES, type RealtimeProfile, type RealtimeSpec } from "./profiles.js";

/** A `realtime:` block whose fields contradict each other; `field` names the culprit. */
export class RealtimeSpecError extends RealtimeError {
  readonly code = "E_RT_SPEC";
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`realtime.${field}: ${reason}`);
  }
}

/** What spawn needs for the instance's process, and what the agent holds while it runs. */
export interface RealtimeAttributes {
  profile: RealtimeProfile;
  /** Whole cores the planner must find; 0 = runs on the shared pool. */
  cores: number;
  sched: SchedSettings;
  rlimits: { rtprio: Rlimit; memlock: Rlimit };
  cpuDmaLatencyUs: number | null;
  liftRtThrottling: boolean;
}

/** Pure: the profile (default `best-effort`) with the spec's explicit fields over it. */
export function resolveRealtimeSpec(spec: RealtimeSpec = {}): RealtimeAttributes {
  const base = PROFILES[spec.profile ?? "best-effort"];
  const explicit = Object.fromEntries(
    Object.entries(spec).filter(([key, v]) => key !== "profile" && v !== undefined),
  );
  const p: RealtimeProfile = { ...base, ...explicit };
  const realtime = p.policy === "fifo" || p.policy === "rr";
  if (realtime && (p.priority < 1 || p.priority > 99)) {
    throw new RealtimeSpecError(
      "priority",
      `${p.policy} needs a priority in 1..99, got ${p.priority}`,
    );
  }
  if (!realtime && spec.priority !== undefined && spec.priority !== 0) {
    throw new RealtimeSpecError(
      "priority",
      `policy ${p.policy} takes no priority (got ${p.priority})`,
    );
  }
  if (realtime && p.priority > p.priorityCeiling) {
    // An explicit priority raises the profile's ceiling; an explicit ceiling must hold it.
    if (spec.priorityCeiling !== undefined) {
      throw new RealtimeSpecError(
        "priorityCeiling",
        `${p.priorityCeiling} is below the starting priority ${p.priority}`,
      );
    }
    p.priorityCeiling = p.priority;
  }
  if (realtime && p.cores === 0) {
    throw new RealtimeSpecError(
      "cores",
      `${p.policy} on shared cores starves them; ask for >= 1 core`,
    );
  }
  const memlock = p.memlock === "unlimited" ? Number.POSITIVE_INFINITY : p.memlock;
  return {
    profile: p,
    cores: p.cores,
    sched: realtime ? { policy: p.policy, priority: p.priority } : { policy: "other" },
    rlimits: {
      rtprio: { soft: p.priorityCeiling, hard: p.priorityCeiling },
      memlock: { soft: memlock, hard: memlock },
    },
    cpuDmaLatencyUs: p.cpuDmaLatencyUs,
    liftRtThrottling: p.liftRtThrottling,
  };
}
