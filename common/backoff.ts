/**
 * How a wait is drawn below its ceiling (the ceiling doubles per consecutive failure):
 * - `none`: exactly the ceiling;
 * - `full`: uniform in [0, ceiling) ("full jitter"): many peers coming back after one
 *   outage spread out the most;
 * - `equal`: uniform in [ceiling/2, ceiling) ("equal jitter"): spread, never much sooner;
 * - `bounded`: uniform in [initialMs, ceiling]: spread, never sooner than `initialMs`.
 */
export type Jitter = "none" | "full" | "equal" | "bounded";

export interface BackoffOptions {
  /** The ceiling after the first failure. */
  initialMs: number;
  /** The ceiling never grows past this. */
  maxMs: number;
  /** Default `none`. */
  jitter?: Jitter;
}

/** The ceiling after `failures` consecutive failures: `initialMs · 2^(failures−1)`, capped. */
export function backoffCeiling(options: BackoffOptions, failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(options.maxMs, options.initialMs * 2 ** Math.min(failures - 1, 30));
}

/**
 * The wait in whole ms before attempt `failures + 1` after `failures` consecutive
 * failures; 0 when nothing failed. `random` returns a number in [0, 1).
 */
export function backoffDelay(
  options: BackoffOptions,
  failures: number,
  random: () => number = Math.random,
): number {
  const ceiling = backoffCeiling(options, failures);
  if (ceiling === 0) return 0;
  const jitter = options.jitter ?? "none";
  if (jitter === "none") return ceiling;
  const low =
    jitter === "full" ? 0 : jitter === "equal" ? ceiling / 2 : Math.min(options.initialMs, ceiling);
  return Math.floor(low + (ceiling - low) * random());
}

/**
 * The failures of one thing retried until it works: each `next()` counts one more failure
 * and returns the wait before the next attempt; `reset()` after a success. It never gives
 * up: the ceiling stays at `maxMs` however long the failures go on.
 */
export class Backoff {
  private count = 0;

  constructor(
    readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    this.count++;
    return backoffDelay(this.options, this.count, this.random);
  }

  reset(): void {
    this.count = 0;
  }

  /** Consecutive failures since the last `reset()`. */
  get failures(): number {
    return this.count;
  }
}
