/**
 * The buffer's disk budget: bytes of chunk files plus appends staged for them, and the
 * number of chunk files. Appends check it before they are staged; the overflow policy
 * decides what happens when it says no. Releases wake `block`ed appends.
 */
export class DiskBudget {
  private usedBytes = 0;
  private chunkFiles = 0;
  private waiters = new Set<() => void>();

  constructor(
    readonly maxBytes: number,
    readonly maxChunks: number,
  ) {}

  get bytes(): number {
    return this.usedBytes;
  }

  get chunks(): number {
    return this.chunkFiles;
  }

  /** Whether `bytes` more fit. With no data held at all, anything fits (it must go somewhere). */
  fits(bytes: number): boolean {
    if (this.usedBytes === 0) return true;
    return this.usedBytes + bytes <= this.maxBytes && this.chunkFiles < this.maxChunks;
  }

  addBytes(bytes: number): void {
    this.usedBytes += bytes;
    if (bytes < 0) this.wake();
  }

  addChunk(): void {
    this.chunkFiles++;
  }

  removeChunk(bytes: number): void {
    this.chunkFiles--;
    this.usedBytes -= bytes;
    this.wake();
  }

  /** Resolves at the next release, or false after `timeoutMs`. */
  waitForRelease(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(wake);
    });
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }
}
