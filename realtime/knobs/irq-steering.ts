import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { formatCpuList, parseCpuList } from "../../native/index.js";
import type { KnobJournal } from "./journal.js";

export interface IrqSteering {
  /** IRQs now kept off the cores. */
  moved: number[];
  /** IRQs the kernel would not move (per-CPU, managed): they stay, the reason says why. */
  unmovable: { irq: number; error: string }[];
}

/** IRQ numbers that have an affinity file under `/proc/irq`. */
export function listIrqs(procRoot = "/proc"): number[] {
  return readdirSync(join(procRoot, "irq"))
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .sort((a, b) => a - b);
}

export function irqAffinityPath(irq: number, procRoot = "/proc"): string {
  return join(procRoot, "irq", String(irq), "smp_affinity_list");
}

/**
 * Moves every movable IRQ whose affinity includes one of `cpus` off them (onto the rest
 * of its affinity, or `housekeeping` when nothing is left), each original journaled
 * for `owner` first. `journal.release(owner)` puts them back.
 */
export function steerIrqsOff(
  journal: KnobJournal,
  owner: string,
  cpus: readonly number[],
  housekeeping: readonly number[],
  procRoot = "/proc",
): IrqSteering {
  if (housekeeping.length === 0) throw new RangeError("IRQs need at least one housekeeping CPU");
  const isolated = new Set(cpus);
  const result: IrqSteering = { moved: [], unmovable: [] };
  for (const irq of listIrqs(procRoot)) {
    const path = irqAffinityPath(irq, procRoot);
    const affinity = parseCpuList(readFileSync(path, "utf8"));
    if (!affinity.some((cpu) => isolated.has(cpu))) continue;
    const rest = affinity.filter((cpu) => !isolated.has(cpu));
    const target = rest.length > 0 ? rest : [...housekeeping];
    try {
      journal.change(path, formatCpuList(target), owner);
      result.moved.push(irq);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // EIO/EPERM: per-CPU or kernel-managed (multi-queue) IRQ; ENOENT: freed meanwhile.
      if (!["EIO", "EPERM", "EINVAL", "ENOENT"].includes(code ?? "")) throw err;
      if (code !== "ENOENT") result.unmovable.push({ irq, error: (err as Error).message });
    }
  }
  return result;
}
