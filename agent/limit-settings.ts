import { parseSize } from "../native/index.js";
import { AgentConfigError } from "./errors.js";
import type { LimitSettings } from "./limits.js";

/**
 * The operator's limits as written: `limits:` in the config file and `--limit
 * KIND.KEY=VALUE` on the command line use the same words (`instance.memory=1Gi`,
 * `promise.open-files=512`, `build.cpu=max`).
 */
export type LimitWords = Partial<Record<LimitKind, Partial<Record<LimitKey, string | number>>>>;

export type LimitKind = "instance" | "build" | "promise";
export type LimitKey = "memory" | "pids" | "cpu" | "open-files" | "disk";

const KEYS: Record<LimitKind, readonly LimitKey[]> = {
  instance: ["memory", "pids", "cpu", "open-files", "disk"],
  build: ["memory", "pids", "cpu", "open-files"],
  promise: ["memory", "pids", "cpu", "open-files"],
};

/** Most open files a process may be given (the kernel's default `fs.nr_open`). */
const MAX_OPEN_FILES = 1_048_576;
const SIZE_TEXT = "^(max|\\d+(\\.\\d+)?\\s*([kKmMgGtT][iI]?[bB]?|[bB])?)$";

const sizeOrMax = {
  anyOf: [
    { type: "integer", minimum: 1 },
    { type: "string", pattern: SIZE_TEXT },
  ],
} as const;
const countOrMax = {
  anyOf: [{ type: "integer", minimum: 1 }, { const: "max" }],
} as const;
const coresOrMax = {
  anyOf: [{ type: "number", minimum: 0.01 }, { const: "max" }],
} as const;
const openFiles = { type: "integer", minimum: 16, maximum: MAX_OPEN_FILES } as const;
const workload = { memory: sizeOrMax, pids: countOrMax, cpu: coresOrMax, "open-files": openFiles };

/** JSON Schema of `limits:` in the agent's config file. */
export const limitsConfigSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    instance: {
      type: "object",
      additionalProperties: false,
      properties: { ...workload, disk: sizeOrMax },
    },
    build: { type: "object", additionalProperties: false, properties: workload },
    promise: { type: "object", additionalProperties: false, properties: workload },
  },
} as const;

function bad(where: string, value: unknown, expected: string): AgentConfigError {
  return new AgentConfigError(`limit ${where}: '${String(value)}' is not ${expected}`);
}

function sizeOf(where: string, value: string | number): number | null {
  if (value === "max") return null;
  const bytes = typeof value === "number" ? value : parseSize(value);
  if (bytes === undefined || !Number.isSafeInteger(bytes) || bytes < 1)
    throw bad(where, value, "a size (e.g. 512Mi) or max");
  return bytes;
}

function countOf(where: string, value: string | number): number | null {
  if (value === "max") return null;
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw bad(where, value, "a positive integer or max");
  return n;
}

function coresOf(where: string, value: string | number): number | null {
  if (value === "max") return null;
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(n) || n < 0.01) throw bad(where, value, "a number of cores ≥ 0.01 or max");
  return n;
}

function openFilesOf(where: string, value: string | number): number {
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < 16 || n > MAX_OPEN_FILES)
    throw bad(where, value, `an integer from 16 to ${MAX_OPEN_FILES}`);
  return n;
}

/** Words to settings; a bad value is E_AGENT_CONFIG naming `KIND.KEY`. */
export function limitSettingsOf(words: LimitWords): LimitSettings {
  const out: Record<string, Record<string, number | null>> = {};
  for (const [kind, entries] of Object.entries(words) as [LimitKind, Record<string, unknown>][]) {
    const known = KEYS[kind];
    if (!known) throw new AgentConfigError(`limit ${kind}: unknown (instance, build or promise)`);
    const into: Record<string, number | null> = {};
    for (const [key, raw] of Object.entries(entries ?? {})) {
      const where = `${kind}.${key}`;
      if (!known.includes(key as LimitKey))
        throw new AgentConfigError(`limit ${where}: unknown (${known.join(", ")})`);
      if (typeof raw !== "string" && typeof raw !== "number") throw bad(where, raw, "a value");
      if (key === "memory" || key === "disk") into[key] = sizeOf(where, raw);
      else if (key === "pids") into.pids = countOf(where, raw);
      else if (key === "cpu") into.cpu = coresOf(where, raw);
      else into.openFiles = openFilesOf(where, raw);
    }
    out[kind] = into;
  }
  return out as LimitSettings;
}

/** `--limit KIND.KEY=VALUE` (repeatable) added to `previous`. */
export function parseLimitFlag(text: string, previous: LimitWords = {}): LimitWords {
  const m = /^(instance|build|promise)\.([a-z-]+)=(.+)$/.exec(text.trim());
  if (!m)
    throw new AgentConfigError(
      `--limit: expected KIND.KEY=VALUE (e.g. instance.memory=1Gi), got '${text}'`,
    );
  const kind = m[1] as LimitKind;
  const key = m[2] as LimitKey;
  const value = m[3] as string;
  // Checked now, so a typo fails at the flag, not later.
  limitSettingsOf({ [kind]: { [key]: value } });
  return { ...previous, [kind]: { ...previous[kind], [key]: value } };
}

/** The file's words, then the flags' over them. */
export function mergeLimitWords(
  file: LimitWords | undefined,
  flags: LimitWords | undefined,
): LimitWords {
  const out: LimitWords = {};
  for (const kind of ["instance", "build", "promise"] as const) {
    const merged = { ...file?.[kind], ...flags?.[kind] };
    if (Object.keys(merged).length > 0) out[kind] = merged;
  }
  return out;
}
