import type { SoftwareStore } from "../software/software-store.js";

/**
 * Installs run beside the converge passes: a pass asks for a release and goes on; the
 * instances waiting for it are started by the pass that follows the install (`done`).
 */
export class BackgroundInstalls {
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly store: SoftwareStore,
    private readonly done: () => void,
  ) {}

  /** Starts installing `url` unless that is under way (the store applies the backoff). */
  start(url: string): void {
    if (this.inFlight.has(url)) return;
    const task = this.store
      .ensure(url)
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.inFlight.delete(url);
        this.done();
      });
    this.inFlight.set(url, task);
  }

  /** Why `url` is not installed: its last install's error, if it failed. */
  error(url: string): string | undefined {
    return this.store.get(url) ? undefined : this.store.failure(url)?.error.message;
  }
}
