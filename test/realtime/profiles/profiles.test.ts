import { strict as assert } from "node:assert";
import { Ajv } from "ajv";
import {
  PROFILES,
  REALTIME_SPEC_SCHEMA,
  RealtimeSpecError,
  resolveRealtimeSpec,
} from "../../../realtime/index.js";

describe("realtime profiles", () => {
  const validate = new Ajv({ strict: true, allErrors: true }).compile(REALTIME_SPEC_SCHEMA);

  it("accepts a profile name and explicit fields under the JSON Schema, and rejects unknown keys and values", () => {
    assert.equal(validate({ profile: "plc", priority: 90 }), true);
    assert.equal(
      validate({ profile: "sdr-gnb", cores: 2, memlock: "unlimited", cpuDmaLatencyUs: null }),
      true,
    );
    assert.equal(validate({ profile: "gnb" }), false);
    assert.equal(validate({ profile: "plc", prio: 90 }), false);
    assert.equal(validate({ priority: 100 }), false);
    assert.equal(validate({ memlock: "lots" }), false);
  });

  it("resolves plc into SCHED_FIFO at its priority with RTPRIO capped there and memlock unlimited", () => {
    const plc = resolveRealtimeSpec({ profile: "plc", priority: 70 });
    assert.deepEqual(plc.sched, { policy: "fifo", priority: 70 });
    assert.deepEqual(plc.rlimits.rtprio, { soft: 80, hard: 80 });
    assert.deepEqual(plc.rlimits.memlock, { soft: Infinity, hard: Infinity });
    assert.equal(plc.cores, 1);
    assert.equal(plc.cpuDmaLatencyUs, null);
    assert.equal(plc.liftRtThrottling, false);
  });

  it("resolves sdr-gnb into SCHED_OTHER with an RTPRIO ceiling, PM QoS 0 and RT throttling lifted", () => {
    const gnb = resolveRealtimeSpec({ profile: "sdr-gnb", cores: 2 });
    assert.deepEqual(gnb.sched, { policy: "other" });
    assert.deepEqual(gnb.rlimits.rtprio, { soft: 95, hard: 95 });
    assert.equal(gnb.rlimits.memlock.hard, Infinity);
    assert.equal(gnb.cores, 2);
    assert.equal(gnb.cpuDmaLatencyUs, 0);
    assert.equal(gnb.liftRtThrottling, true);
  });

  it("defaults to best-effort: shared cores, no RT priority, a small memlock", () => {
    const be = resolveRealtimeSpec();
    assert.equal(be.profile.profile, "best-effort");
    assert.equal(be.cores, 0);
    assert.deepEqual(be.rlimits.rtprio, { soft: 0, hard: 0 });
    assert.equal(be.rlimits.memlock.soft, PROFILES["best-effort"].memlock);
  });

  it("raises the profile's ceiling to an explicit higher priority, but refuses an explicit ceiling below it", () => {
    assert.deepEqual(resolveRealtimeSpec({ profile: "plc", priority: 90 }).rlimits.rtprio, {
      soft: 90,
      hard: 90,
    });
    assert.throws(
      () => resolveRealtimeSpec({ profile: "plc", priority: 90, priorityCeiling: 50 }),
      {
        code: "E_RT_SPEC",
        field: "priorityCeiling",
      },
    );
  });

  it("refuses contradictions with the field named: RT policy on shared cores, priority without RT policy", () => {
    assert.throws(
      () => resolveRealtimeSpec({ policy: "fifo", priority: 50 }),
      (err: unknown) => err instanceof RealtimeSpecError && /realtime\.cores/.test(err.message),
    );
    assert.throws(() => resolveRealtimeSpec({ profile: "sdr-gnb", priority: 10 }), {
      field: "priority",
    });
    assert.throws(() => resolveRealtimeSpec({ profile: "plc", policy: "rr", priority: 0 }), {
      field: "priority",
    });
  });
});
