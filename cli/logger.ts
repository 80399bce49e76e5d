import { isatty } from "node:tty";
import { type LevelWithSilent, type Logger, pino } from "pino";
import pretty from "pino-pretty";

export type { Logger };

export type LogFormat = "json" | "pretty";

export interface LoggerOptions {
  level: LevelWithSilent;
  /** One short line per event; the CLI picks it when stderr is a TTY (`--log-format`). */
  pretty: boolean;
  /** Where log lines go; stderr by default so stdout stays free for `--json` documents. */
  fd?: number;
}

/** Bindings every event carries that say nothing to a person at a terminal. */
const NOISE = new Set(["level", "time", "pid", "hostname", "event", "msg", "component"]);
const MAX_FIELDS = 6;
const MAX_VALUE = 80;

function shortValue(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "object") {
    const message = (value as { message?: unknown }).message;
    if (typeof message === "string") return shortText(message.split("\n")[0] ?? "");
    if (Array.isArray(value))
      return value.every((v) => typeof v !== "object")
        ? shortText(value.join(","))
        : `[${value.length}]`;
    return undefined;
  }
  return shortText(String(value));
}

function shortText(text: string): string {
  const cut = text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
  return /[\s"]/.test(cut) ? JSON.stringify(cut) : cut;
}

/** `event k=v k=v`: the event's name and its first few plain fields, on one line. */
export function eventLine(log: Record<string, unknown>): string {
  const fields: string[] = [];
  for (const [key, value] of Object.entries(log)) {
    if (NOISE.has(key) || fields.length >= MAX_FIELDS) continue;
    const text = shortValue(value);
    if (text !== undefined && text !== "") fields.push(`${key}=${text}`);
  }
  return [String(log.event ?? log.msg ?? ""), ...fields].join(" ");
}

/**
 * Logs are structured events with stable names in `event` (e.g. `instance.started`);
 * components receive a Logger and add their own bindings with `child()`. On a terminal
 * each event is one short line (time, level, event, the few fields that matter); piped,
 * each is one NDJSON line with every field.
 */
export function createLogger(options: LoggerOptions): Logger {
  const fd = options.fd ?? 2;
  const base = { level: options.level, base: { pid: process.pid } };
  if (options.pretty) {
    return pino(
      { ...base, messageKey: "event" },
      pretty({
        destination: fd,
        sync: true,
        // Colours only for a terminal: `--log-format pretty` into a file stays plain text.
        colorize: isatty(fd),
        translateTime: "HH:MM:ss",
        hideObject: true,
        ignore: "pid,hostname,name",
        messageKey: "event",
        messageFormat: (log) => eventLine(log),
      }),
    );
  }
  return pino({ ...base, messageKey: "event" }, pino.destination({ fd, sync: true }));
}
