import { CodedTypeError } from "../common/errors.js";
/**
 * The kernel's CPU list format ("0-3,8,10-11"), used by sysfs (`online`, `isolated`,
 * `thread_siblings_list`), by cpusets and by the kernel command line (`isolcpus=`).
 */

/** A CPU list that does not parse; `input` is the text as given. */
export class CpuListSyntaxError extends CodedTypeError {
  readonly code = "E_CPU_LIST";
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid CPU list '${input}': ${reason} (expected e.g. '0-3,8')`);
  }
}

const RANGE = /^(\d+)(?:-(\d+)(?::(\d+)\/(\d+))?)?$/;

/**
 * Parses a CPU list into sorted, distinct CPU numbers. Accepts the kernel's whole
 * grammar, including the `a-b:used/group` stride form of `isolcpus=` and `rcu_nocbs=`.
 * An empty (or blank) string is the empty list, as sysfs writes it.
 */
export function parseCpuList(text: string): number[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const cpus = new Set<number>();
  for (const part of trimmed.split(",")) {
    const m = RANGE.exec(part.trim());
    if (!m) throw new CpuListSyntaxError(text, `'${part}' is not a CPU number or range`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last < first) throw new CpuListSyntaxError(text, `range '${part}' runs backwards`);
    const used = m[3] === undefined ? 1 : Number(m[3]);
    const group = m[4] === undefined ? 1 : Number(m[4]);
    if (used < 1 || group < 1 || used > group) {
      throw new CpuListSyntaxError(text, `stride '${part}' needs 1 <= used <= group`);
    }
    for (let cpu = first; cpu <= last; cpu++) {
      if ((cpu - first) % group < used) cpus.add(cpu);
    }
  }
  return [...cpus].sort((a, b) => a - b);
}

/** Formats CPU numbers the way the kernel does: sorted, consecutive runs as ranges. */
export function formatCpuList(cpus: Iterable<number>): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    const start = sorted[i] as number;
    let end = start;
    while (sorted[i + 1] === end + 1) {
      end++;
      i++;
    }
    parts.push(start === end ? `${start}` : `${start}-${end}`);
    i++;
  }
  return parts.join(",");
}
