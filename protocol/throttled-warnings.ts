import type { Logger } from "../common/index.js";

/**
 * At most one warning per event name per `intervalMs`, carrying how many were held
 * back: a node spamming bad frames must not be able to flood the master's log.
 */
export class ThrottledWarnings {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  warn(event: string, fields: object): void {
    const now = Date.now();
    const state = this.last.get(event);
    if (state && now - state.at < this.intervalMs) {
      state.suppressed++;
      return;
    }
    this.logger.warn({ ...fields, suppressed: state?.suppressed ?? 0 }, event);
    this.last.set(event, { at: now, suppressed: 0 });
  }
}
