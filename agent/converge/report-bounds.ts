import { type InstanceReport, REPORT_TEXT_MAX } from "../../protocol/index.js";

/** Longest promise name and connection key the master takes. */
const NAME_MAX = 128;
/** Most connection parameters one instance publishes. */
const CONNECTION_MAX = 256;

/** `text` cut to `max` characters, the cut said at its end. */
export function truncated(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = (cut: number) => `… [${cut} more characters]`;
  const keep = max - marker(text.length).length;
  return `${text.slice(0, keep)}${marker(text.length - keep)}`;
}

/**
 * The report as the master will take it: every text an instance controls (promise
 * messages, published values, what it reports of itself) cut to the wire's bounds with a
 * marker, so an instance's long message reaches the master shortened instead of getting
 * the node's report refused.
 */
export function boundReport(report: InstanceReport): InstanceReport {
  const connection = Object.fromEntries(
    Object.entries(report.connection)
      .slice(0, CONNECTION_MAX)
      .map(([k, v]) => [truncated(k, NAME_MAX), truncated(v, REPORT_TEXT_MAX)]),
  );
  return {
    ...report,
    promises: report.promises.slice(0, 256).map((p) => ({
      ...p,
      name: truncated(p.name, NAME_MAX),
      ...(p.message !== undefined ? { message: truncated(p.message, REPORT_TEXT_MAX) } : {}),
    })),
    connection,
  };
}
