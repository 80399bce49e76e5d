/**
 * What every component logs through: structured events, the fields first and the event's
 * stable name (`instance.started`) second. The CLI's pino logger is one; a component
 * takes it and adds its own bindings with `child()`.
 */
export interface Logger {
  debug(fields: object, event: string): void;
  info(fields: object, event: string): void;
  warn(fields: object, event: string): void;
  error(fields: object, event: string): void;
  /** A logger that adds `bindings` to every event. */
  child(bindings: object): Logger;
}

const noop = (): void => {};

/** Drops every event: for callers that pass no logger. */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};
