/**
 * The one backoff policy of the buffer: full-jitter exponential ("AWS architecture blog,
 * exponential backoff and jitter"). Attempt n waits a uniform random time in
 * [0, min(cap, base·2^n)], so many gateways coming back after an outage spread out, and
 * the cap (about a minute) keeps recovery quick after a long outage. It never gives up:
 * data is not dropped because retries ran out.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly baseMs: number,
    private readonly capMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next retry; each call counts one more failure. */
  next(): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.floor(this.random() * ceiling);
  }

  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}
