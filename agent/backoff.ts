/** Exponential backoff: `initialMs`, doubling per consecutive failure, capped at `maxMs`. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/** The wait before attempt `failures + 1` after `failures` consecutive failures (≥ 1). */
export function backoffDelay(options: BackoffOptions, failures: number): number {
  if (failures <= 0) return 0;
  const exp = Math.min(failures - 1, 30);
  return Math.min(options.maxMs, options.initialMs * 2 ** exp);
}
