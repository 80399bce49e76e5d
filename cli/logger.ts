import { type LevelWithSilent, type Logger, pino } from "pino";
import pretty from "pino-pretty";

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Human-readable lines instead of NDJSON; the CLI turns this on when stderr is a TTY. */
  pretty: boolean;
  /** Where log lines go; stderr by default so stdout stays free for `--json` documents. */
  fd?: number;
}

/**
 * Logs are structured events with stable names in `event` (e.g. `instance.started`);
 * components receive a Logger and add their own bindings with `child()`.
 */
export function createLogger(options: LoggerOptions): Logger {
  const fd = options.fd ?? 2;
  const base = { level: options.level, base: { pid: process.pid } };
  if (options.pretty) {
    return pino(
      base,
      pretty({
        destination: fd,
        sync: true,
        colorize: true,
        ignore: "pid,hostname",
        messageKey: "event",
      }),
    );
  }
  return pino({ ...base, messageKey: "event" }, pino.destination({ fd, sync: true }));
}
