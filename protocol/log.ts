/**
 * The slice of a pino logger the protocol uses; protocol imports nothing of ours, so
 * callers pass their own logger (the CLI's pino logger fits).
 */
export interface ProtocolLogger {
  debug(fields: object, event: string): void;
  info(fields: object, event: string): void;
  warn(fields: object, event: string): void;
  error(fields: object, event: string): void;
}

const noop = (): void => {};
export const silentLogger: ProtocolLogger = { debug: noop, info: noop, warn: noop, error: noop };

/**
 * At most one warning per event name per `intervalMs`, carrying how many were held
 * back: a node spamming bad frames must not be able to flood the master's log.
 */
export class ThrottledWarnings {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: ProtocolLogger,
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
