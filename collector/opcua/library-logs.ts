import { format } from "node:util";
import { setDebugLogger, setErrorLogger, setTraceLogger, setWarningLogger } from "node-opcua-debug";
import type { Logger } from "../../common/index.js";

type Level = "debug" | "info" | "warn" | "error";
type Sink = (level: Level, event: string, fields: Record<string, unknown>) => void;

const LEVELS: Record<Level, number> = { debug: 20, info: 30, warn: 40, error: 50 };

/** Until a logger is given: one JSON line on stderr, in the shape of our pino events. */
let sink: Sink = (level, event, fields) => {
  if (level === "debug") return;
  process.stderr.write(`${JSON.stringify({ level: LEVELS[level], ...fields, event })}\n`);
};

/**
 * node-opcua warns on every Node 20 start that RSA PKCS#1 v1.5 may need
 * `--security-revert=CVE-2023-46809`; only the deprecated Basic128Rsa15 and Basic256
 * policies use it, and the collector offers neither, so the warning is noise: debug.
 */
const IRRELEVANT = /NODE-OPCUA-W27|CVE-2023-46809/;

/**
 * node-opcua warns "Creating default certificate ... please wait" when it creates the
 * collector's own certificate, on the first connection of a data dir: news, not a
 * fault, so it is one info event.
 */
const CERTIFICATE_CREATED = /Creating default certificate/;

const to =
  (level: Level, event: string) =>
  (context?: unknown, ...args: unknown[]) => {
    const text = format(...args);
    const source = (context as { filename?: string } | undefined)?.filename;
    if (CERTIFICATE_CREATED.test(text)) {
      sink("info", "opcua.certificate_created", { source, text });
      return;
    }
    sink(IRRELEVANT.test(text) ? "debug" : level, event, { source, text });
  };

// node-opcua prints with console.log, on stdout, where it would corrupt `--json` output,
// and some warnings fire while its modules load: this module is imported (for this side
// effect) before anything that loads node-opcua.
setWarningLogger(to("warn", "opcua.library_warning"));
setErrorLogger(to("error", "opcua.library_error"));
setDebugLogger(to("debug", "opcua.library_debug"));
setTraceLogger(to("debug", "opcua.library_trace"));

/** Sends node-opcua's own messages to `logger` as structured events. */
export function routeOpcuaLibraryLogs(logger: Logger): void {
  sink = (level, event, fields) => logger[level](fields, event);
}
