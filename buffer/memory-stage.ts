/**
 * The bounded memory stage in front of the disk: appends hold their encoded size here
 * until their group commit has written them, and wait (first come, first served) when
 * the stage is full, so a fast producer slows to the disk's pace instead of growing the
 * heap. One request larger than the whole stage is let through alone.
 */
export class MemoryStage {
  private used = 0;
  private readonly waiters: { bytes: number; resolve: () => void }[] = [];

  constructor(readonly capacity: number) {}

  get bytes(): number {
    return this.used;
  }

  /** Takes `bytes` if they fit now and nobody is waiting ahead; never waits. */
  tryAcquire(bytes: number): boolean {
    if (this.waiters.length > 0 || !this.fits(bytes)) return false;
    this.used += bytes;
    return true;
  }

  acquire(bytes: number): Promise<void> {
    if (this.tryAcquire(bytes)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ bytes, resolve }));
  }

  release(bytes: number): void {
    this.used -= bytes;
    while (this.waiters.length > 0) {
      const next = this.waiters[0];
      if (!next || !this.fits(next.bytes)) break;
      this.waiters.shift();
      this.used += next.bytes;
      next.resolve();
    }
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.capacity;
  }
}
