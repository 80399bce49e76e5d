/** Events per second over a sliding window of one-second buckets. */
export class RateMeter {
  private readonly buckets: number[];
  private current = 0;
  private second: number;

  constructor(
    private readonly windowSeconds = 10,
    private readonly now: () => number = Date.now,
  ) {
    this.buckets = new Array<number>(windowSeconds).fill(0);
    this.second = Math.floor(now() / 1000);
  }

  add(n: number): void {
    this.roll();
    this.buckets[this.current] = (this.buckets[this.current] ?? 0) + n;
  }

  rate(): number {
    this.roll();
    return this.buckets.reduce((a, b) => a + b, 0) / this.windowSeconds;
  }

  private roll(): void {
    const now = Math.floor(this.now() / 1000);
    const steps = Math.min(now - this.second, this.windowSeconds);
    for (let i = 0; i < steps; i++) {
      this.current = (this.current + 1) % this.windowSeconds;
      this.buckets[this.current] = 0;
    }
    this.second = now;
  }
}
