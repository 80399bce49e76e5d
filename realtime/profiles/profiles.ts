export const PROFILE_NAMES = ["sdr-gnb", "plc", "best-effort"] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/**
 * What a process may ask for in its descriptor's `realtime:` block: a profile, and any
 * field of it overridden explicitly. Validated by `REALTIME_SPEC_SCHEMA` at the edge.
 */
export interface RealtimeSpec {
  profile?: ProfileName;
  /** Whole physical cores given to the instance alone. */
  cores?: number;
  /** Policy the process starts with; `other` lets an RT-aware program raise its own threads. */
  policy?: "fifo" | "rr" | "other";
  /** fifo/rr: the priority the process starts at. */
  priority?: number;
  /** RLIMIT_RTPRIO: the highest SCHED_FIFO/RR priority the process may give itself. */
  priorityCeiling?: number;
  /** RLIMIT_MEMLOCK in bytes, or `unlimited`. */
  memlock?: number | "unlimited";
  /** `/dev/cpu_dma_latency` request (µs) held while the instance runs; `null` = none. */
  cpuDmaLatencyUs?: number | null;
  /** Lift RT throttling (`sched_rt_runtime_us` = -1) while the instance runs. */
  liftRtThrottling?: boolean;
}

/** A profile with every field decided. */
export type RealtimeProfile = Required<Omit<RealtimeSpec, "profile">> & { profile: ProfileName };

/**
 * Defaults per profile. `sdr-gnb` starts SCHED_OTHER: gNodeB software (OAI, srsRAN)
 * sets each of its threads' priorities itself, so it gets a ceiling, not a policy.
 */
export const PROFILES: Readonly<Record<ProfileName, RealtimeProfile>> = {
  "sdr-gnb": {
    profile: "sdr-gnb",
    cores: 1,
    policy: "other",
    priority: 0,
    priorityCeiling: 95,
    memlock: "unlimited",
    cpuDmaLatencyUs: 0,
    liftRtThrottling: true,
  },
  plc: {
    profile: "plc",
    cores: 1,
    policy: "fifo",
    priority: 80,
    priorityCeiling: 80,
    memlock: "unlimited",
    cpuDmaLatencyUs: null,
    liftRtThrottling: false,
  },
  "best-effort": {
    profile: "best-effort",
    cores: 0,
    policy: "other",
    priority: 0,
    priorityCeiling: 0,
    memlock: 64 * 1024,
    cpuDmaLatencyUs: null,
    liftRtThrottling: false,
  },
};

/** JSON Schema of the descriptor's `realtime:` block (draft-07, ajv strict mode). */
export const REALTIME_SPEC_SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    profile: { type: "string", enum: [...PROFILE_NAMES] },
    cores: { type: "integer", minimum: 0, maximum: 4096 },
    policy: { type: "string", enum: ["fifo", "rr", "other"] },
    priority: { type: "integer", minimum: 0, maximum: 99 },
    priorityCeiling: { type: "integer", minimum: 0, maximum: 99 },
    memlock: {
      oneOf: [
        { type: "integer", minimum: 0 },
        { type: "string", enum: ["unlimited"] },
      ],
    },
    cpuDmaLatencyUs: { type: ["integer", "null"], minimum: 0, maximum: 2_000_000_000 },
    liftRtThrottling: { type: "boolean" },
  },
} as const;
