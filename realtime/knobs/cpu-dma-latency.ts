import { open } from "node:fs/promises";
import { endianness } from "node:os";

export const CPU_DMA_LATENCY = "/dev/cpu_dma_latency";

/** A PM QoS request in force; the kernel drops it when the file is closed (or we die). */
export interface CpuDmaLatencyHold {
  us: number;
  release(): Promise<void>;
}

/**
 * Asks the kernel to keep every CPU out of idle states slower to leave than `us` µs
 * (0 = stay out of deep C-states), as cyclictest does by default, for as long as the
 * hold lasts. Resolves `null` when the box has no PM QoS device or we may not open it:
 * the run goes on without, and reports that no request was held.
 */
export async function holdCpuDmaLatency(
  us: number,
  path = CPU_DMA_LATENCY,
): Promise<CpuDmaLatencyHold | null> {
  if (!Number.isInteger(us) || us < 0 || us > 2_000_000_000) {
    throw new RangeError(`PM QoS latency must be an integer number of µs >= 0, got ${us}`);
  }
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, "w");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES" || code === "EPERM") return null;
    throw err;
  }
  // The device takes a binary s32 in the CPU's byte order.
  const value = Buffer.alloc(4);
  if (endianness() === "LE") value.writeInt32LE(us);
  else value.writeInt32BE(us);
  try {
    await file.write(value, 0, 4);
  } catch (err) {
    await file.close();
    throw err;
  }
  return { us, release: () => file.close() };
}
