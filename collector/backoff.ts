/**
 * Exponential backoff with full jitter between `minMs` and `maxMs`: retries of many
 * devices after a shared outage spread out instead of arriving together.
 */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The wait before the next attempt; each call doubles the ceiling up to `maxMs`. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(this.minMs + (ceiling - this.minMs) * this.random());
  }

  reset(): void {
    this.attempt = 0;
  }
}
