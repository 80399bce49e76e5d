import { pino } from "pino";
import { parseConfigText } from "../../cli/config/index.js";
import {
  type CollectorConfig,
  collectorConfigSchema,
  type RecordOutput,
  routeOpcuaLibraryLogs,
  type TelemetryRecord,
} from "../../collector/index.js";

/** A config object validated (and defaulted) exactly as `loadConfigFile` does for a file. */
export function collectorConfig(config: object): CollectorConfig {
  return parseConfigText<CollectorConfig>(
    JSON.stringify(config),
    "test.yaml",
    collectorConfigSchema,
  );
}

export const quietLogger = pino({ level: "silent" });
routeOpcuaLibraryLogs(quietLogger);

/** An output that keeps every record, for assertions. */
export class MemoryOutput implements RecordOutput {
  readonly records: TelemetryRecord[] = [];
  async write(records: TelemetryRecord[]): Promise<void> {
    this.records.push(...records);
  }
  of(device: string, tag?: string): TelemetryRecord[] {
    return this.records.filter((r) => r.device === device && (tag === undefined || r.tag === tag));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(
  check: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
