import { CodedAbortError, CodedRangeError } from "../common/errors.js";
import { type NativeLatencyCpu, nativeAddon } from "./addon.js";
import { formatCpuList } from "./cpu-list.js";
import { readOnlineCpus } from "./cpu-topology.js";

export interface LatencyProbeOptions {
  /** CPUs to measure, one SCHED_FIFO thread pinned to each; each must be online. */
  cpus: readonly number[];
  /** SCHED_FIFO priority of the probe threads, 1..99. */
  priority: number;
  /** Period of the wake-ups in µs (cyclictest `-i`). */
  intervalUs: number;
  /** Wake-ups per CPU (cyclictest `-l`). */
  loops: number;
  /** Histogram range in µs (cyclictest `-h`): latencies >= this count as overflow. */
  histogramMaxUs: number;
  /**
   * mlock each probe thread's own stack and histogram (and fault them in) so no page
   * fault lands in a measurement; needs RLIMIT_MEMLOCK room for ~(256 KiB + 8 bytes per
   * histogram µs) per CPU. Never mlockall: V8 aborts when its GC madvise()s locked pages.
   */
  lockMemory?: boolean;
  /** Aborting ends the run within one interval; the promise rejects with `LatencyProbeAbortedError`. */
  signal?: AbortSignal;
}

/**
 * One probe thread's figures, all latencies in whole µs (truncated, as cyclictest does);
 * `overflow` counts samples >= `histogramMaxUs`, the length of `histogram`.
 */
export interface LatencyProbeCpu extends Omit<NativeLatencyCpu, "policy"> {
  /** Policy read back by the thread itself once set. */
  policy: "fifo" | "other" | number;
}

export interface LatencyProbeResult {
  cpus: LatencyProbeCpu[];
}

/** The run was aborted; what was measured until then is in `partial`. */
export class LatencyProbeAbortedError extends CodedAbortError {
  constructor(
    readonly partial: LatencyProbeResult,
    cause: unknown,
  ) {
    super("latency probe aborted", { cause });
  }
}

/** A CPU asked for is not online (or does not exist); `online` lists those that are. */
export class CpuNotOnlineError extends CodedRangeError {
  readonly code = "E_CPU_NOT_ONLINE";
  constructor(
    readonly cpu: number,
    readonly online: readonly number[],
  ) {
    super(`CPU ${cpu} is not online (online: ${formatCpuList(online)})`);
  }
}

const SCHED_OTHER = 0;
const SCHED_FIFO = 1;
/** Bounds a histogram's memory (8 bytes per bucket per CPU) like cyclictest's HIST_MAX. */
export const HISTOGRAM_MAX_US_LIMIT = 1_000_000;

function checkInteger(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`latency probe: ${name} must be an integer, got ${String(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`latency probe: ${name} must be in ${min}..${max}, got ${value}`);
  }
}

/** Pure: throws TypeError/RangeError for malformed options, before anything is read or called. */
export function checkLatencyProbeOptions(options: LatencyProbeOptions): void {
  if (!Array.isArray(options.cpus) || options.cpus.length === 0) {
    throw new TypeError("latency probe: cpus must be a non-empty array of CPU numbers");
  }
  const seen = new Set<number>();
  for (const cpu of options.cpus) {
    checkInteger("cpu", cpu, 0, Number.MAX_SAFE_INTEGER);
    if (seen.has(cpu)) throw new RangeError(`latency probe: CPU ${cpu} is listed twice`);
    seen.add(cpu);
  }
  checkInteger("priority", options.priority, 1, 99);
  // One hour: a longer period is no latency test, and keeps interval × 1000 exact.
  checkInteger("intervalUs", options.intervalUs, 1, 3_600_000_000);
  checkInteger("loops", options.loops, 1, Number.MAX_SAFE_INTEGER);
  checkInteger("histogramMaxUs", options.histogramMaxUs, 1, HISTOGRAM_MAX_US_LIMIT);
}

/** Pure: throws CpuNotOnlineError for the first CPU of `cpus` not in `online`. */
export function checkCpusOnline(cpus: readonly number[], online: readonly number[]): void {
  for (const cpu of cpus) {
    if (!online.includes(cpu)) throw new CpuNotOnlineError(cpu, online);
  }
}

function policyName(policy: number): LatencyProbeCpu["policy"] {
  if (policy === SCHED_FIFO) return "fifo";
  if (policy === SCHED_OTHER) return "other";
  return policy;
}

/**
 * Measures timer wake-up latency on each CPU with cyclictest's method, on native threads
 * (SCHED_FIFO applies to those threads only, never to Node's). Resolves once every probe
 * thread has been joined; the event loop runs meanwhile. A failed syscall rejects with
 * `code` (errno name), `syscall` and `cpu` (in a probe thread), or throws with `code` and
 * `syscall` (mmap, mlock, pthread_create: before any thread measures).
 */
export async function probeLatency(options: LatencyProbeOptions): Promise<LatencyProbeResult> {
  checkLatencyProbeOptions(options);
  checkCpusOnline(options.cpus, readOnlineCpus());
  options.signal?.throwIfAborted();
  const handle = nativeAddon().latencyProbeStart({
    cpus: [...options.cpus],
    priority: options.priority,
    intervalUs: options.intervalUs,
    loops: options.loops,
    histogramBuckets: options.histogramMaxUs,
    lockMemory: options.lockMemory === true,
  });
  const onAbort = () => handle.stop();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const raw = await handle.promise;
    const result = { cpus: raw.cpus.map((c) => ({ ...c, policy: policyName(c.policy) })) };
    if (raw.cancelled) throw new LatencyProbeAbortedError(result, options.signal?.reason);
    return result;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
}
