import { CodedAbortError, hasCode } from "../../common/errors.js";
import {
  checkCpusOnline,
  checkLatencyProbeOptions,
  type LatencyProbeAbortedError,
  type LatencyProbeOptions,
  probeLatency,
  readCpuTopology,
  readOnlineCpus,
} from "../../native/index.js";
import { holdCpuDmaLatency } from "../knobs/cpu-dma-latency.js";
import { type LatencyReport, type LatencySettings, latencyReportOf } from "./report.js";

export interface LatencyTestOptions {
  /** CPUs to measure; default `defaultLatencyCpus()` of this box. */
  cpus?: readonly number[];
  priority?: number;
  /** µs between wake-ups. */
  interval?: number;
  loops?: number;
  histogramMaxUs?: number;
  /** Lock the probe threads' stacks and histograms in RAM (cyclictest `-m` locks all). */
  lockMemory?: boolean;
  /** /dev/cpu_dma_latency request during the run in µs; `null` for none. */
  pmQos?: number | null;
  signal?: AbortSignal;
}

/**
 * cyclictest's defaults where it has one (interval 1000 µs, PM QoS 0 µs); priority 80
 * sits above threaded IRQs (50) like a real RT workload; 10 000 loops take 10 s at the
 * default interval; a 10 ms histogram keeps the percentiles of a noisy box exact; memory
 * locked as with cyclictest `-m`.
 */
export const LATENCY_TEST_DEFAULTS = {
  priority: 80,
  interval: 1000,
  loops: 10_000,
  histogramMaxUs: 10_000,
  lockMemory: true,
  pmQos: 0,
} as const;

/**
 * Pure: the CPUs a latency test measures by default: the isolated ones that are online
 * (where RT workloads run), otherwise every online CPU.
 */
export function defaultLatencyCpus(cpus: {
  online: readonly number[];
  isolated: readonly number[];
}): number[] {
  const isolated = cpus.isolated.filter((cpu) => cpus.online.includes(cpu));
  return isolated.length > 0 ? isolated : [...cpus.online];
}

/** The settings a run with these options uses. */
export function latencySettingsOf(options: LatencyTestOptions): LatencySettings {
  return {
    priority: options.priority ?? LATENCY_TEST_DEFAULTS.priority,
    interval: options.interval ?? LATENCY_TEST_DEFAULTS.interval,
    loops: options.loops ?? LATENCY_TEST_DEFAULTS.loops,
    histogramMaxUs: options.histogramMaxUs ?? LATENCY_TEST_DEFAULTS.histogramMaxUs,
    lockMemory: options.lockMemory ?? LATENCY_TEST_DEFAULTS.lockMemory,
    pmQos: options.pmQos === undefined ? LATENCY_TEST_DEFAULTS.pmQos : options.pmQos,
  };
}

/** The run was aborted; `partial` is the report of what was measured until then. */
export class LatencyTestAbortedError extends CodedAbortError {
  constructor(
    readonly partial: LatencyReport,
    cause: unknown,
  ) {
    super("latency test aborted", { cause });
  }
}

/**
 * Runs the latency probe with defaults filled in and the PM QoS request held, and
 * shapes the result. Bad options throw (TypeError, RangeError, `CpuNotOnlineError`)
 * before anything is opened or started; an abort rejects with `LatencyTestAbortedError`.
 */
export async function runLatencyTest(options: LatencyTestOptions = {}): Promise<LatencyReport> {
  const settings = latencySettingsOf(options);
  const probe: LatencyProbeOptions = {
    cpus: options.cpus ?? defaultLatencyCpus(readCpuTopology()),
    priority: settings.priority,
    intervalUs: settings.interval,
    loops: settings.loops,
    histogramMaxUs: settings.histogramMaxUs,
    lockMemory: settings.lockMemory,
    signal: options.signal,
  };
  // Checked here too, so a bad option never opens the PM QoS device.
  checkLatencyProbeOptions(probe);
  checkCpusOnline(probe.cpus, readOnlineCpus());
  options.signal?.throwIfAborted();
  const hold = settings.pmQos === null ? null : await holdCpuDmaLatency(settings.pmQos);
  const held = { ...settings, pmQos: hold?.us ?? null };
  try {
    return latencyReportOf(held, await probeLatency(probe));
  } catch (err) {
    if (hasCode<LatencyProbeAbortedError>(err, "ABORT_ERR")) {
      throw new LatencyTestAbortedError(latencyReportOf(held, err.partial), err.cause);
    }
    throw err;
  } finally {
    await hold?.release();
  }
}
