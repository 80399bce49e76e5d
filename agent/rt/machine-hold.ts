import {
  type CpuDmaLatencyHold,
  holdCpuDmaLatency,
  type IrqSteering,
  type KnobJournal,
  liftRtThrottling,
  type RealtimeAttributes,
  type RestoreFailure,
  steerIrqsOff,
} from "../../realtime/index.js";

/** What the agent holds on the machine for one RT instance while it runs. */
export interface RtHold {
  irqs: IrqSteering;
  /** The `/dev/cpu_dma_latency` request in force (µs); null: none asked or no device. */
  cpuDmaLatencyUs: number | null;
  rtThrottlingLifted: boolean;
  /** Puts every knob back (IRQ affinities, RT throttling) and closes the PM QoS request. */
  release(): Promise<RestoreFailure[]>;
}

/** The journal owner of an instance's knobs. */
export const knobOwner = (instance: string) => `instance:${instance}`;

/**
 * Takes, for `instance` on `cpus`, what its processes' profiles ask of the machine:
 * movable IRQs steered onto `shared`, RT throttling lifted, the lowest PM QoS latency
 * asked held as an open `/dev/cpu_dma_latency`. Every knob is journaled before it is
 * changed, so a crash is undone by the next agent's `KnobJournal.recover()`.
 */
export async function holdRealtime(
  knobs: KnobJournal,
  instance: string,
  cpus: readonly number[],
  shared: readonly number[],
  profiles: readonly RealtimeAttributes[],
): Promise<RtHold> {
  const owner = knobOwner(instance);
  const irqs = steerIrqsOff(knobs, owner, cpus, shared);
  const lift = profiles.some((p) => p.liftRtThrottling);
  let dma: CpuDmaLatencyHold | null = null;
  try {
    if (lift) liftRtThrottling(knobs, owner);
    const asked = profiles.flatMap((p) => (p.cpuDmaLatencyUs === null ? [] : [p.cpuDmaLatencyUs]));
    if (asked.length > 0) dma = await holdCpuDmaLatency(Math.min(...asked));
  } catch (err) {
    knobs.release(owner);
    throw err;
  }
  return {
    irqs,
    cpuDmaLatencyUs: dma?.us ?? null,
    rtThrottlingLifted: lift,
    release: async () => {
      await dma?.release();
      return knobs.release(owner);
    },
  };
}
