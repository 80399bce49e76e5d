import { Ajv } from "ajv";
import { LinkConfigError, parseEndpointList } from "../protocol/index.js";
import { AgentConfigError } from "./errors.js";
import { type LimitWords, limitsConfigSchema } from "./limit-settings.js";

/**
 * The agent's settings, one JSON Schema for all three ways of giving them: the YAML of
 * `outpost agent start --config FILE` and the command's flags use its keys as written
 * (`sync-interval`, `--sync-interval`); `startAgent` takes the same words in camelCase
 * (`syncInterval`), the mapping commander applies to flags, done here by `camelKeys`
 * and `kebabKeys`. Every default is in the schema and is applied in one place,
 * `resolveAgentSettings`. Times are seconds, as `--sync-interval` always was.
 */

const absolutePath = { type: "string", minLength: 1, pattern: "^/" } as const;
const seconds = (fallback: number, description: string) =>
  ({
    type: "number",
    exclusiveMinimum: 0,
    maximum: 86_400,
    default: fallback,
    description,
  }) as const;
const backoff = (initial: number, max: number, description: string) =>
  ({
    type: "object",
    additionalProperties: false,
    properties: {
      initial: {
        type: "number",
        exclusiveMinimum: 0,
        description: "seconds after the first failure",
      },
      max: {
        type: "number",
        exclusiveMinimum: 0,
        description: "the wait doubles up to this (seconds)",
      },
    },
    required: ["initial", "max"],
    default: { initial, max },
    description,
  }) as const;

export const agentConfigSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    data: { type: "string", minLength: 1, description: "data directory (required)" },
    master: {
      type: "string",
      minLength: 1,
      maxLength: 16_384,
      description:
        "the masters' node endpoints, tcp://HOST:PORT, comma-separated: several masters of one fleet (one key pair), the node holds one and fails over; a DNS name counts as each of its addresses (required)",
    },
    "master-key": {
      type: "string",
      minLength: 40,
      maxLength: 40,
      description: "the master's public key (Z85), pinned (required)",
    },
    name: {
      type: "string",
      minLength: 1,
      maxLength: 128,
      description: "the name the node was added under",
    },
    partitions: {
      type: "integer",
      minimum: 1,
      maximum: 254,
      default: 4,
      description: "partitions offered",
    },
    "sync-interval": {
      type: "number",
      exclusiveMinimum: 0,
      maximum: 3600,
      default: 5,
      description: "seconds between converge passes",
    },
    metrics: {
      type: "string",
      pattern: "^(\\[[0-9a-fA-F:.]+\\]|[^:\\[\\]]+):\\d{1,5}$",
      description: "serve Prometheus metrics on HOST:PORT/metrics",
    },
    board: {
      type: "string",
      minLength: 1,
      maxLength: 256,
      default: "generic",
      description: "board id reported to the master",
    },
    ota: {
      type: "string",
      minLength: 1,
      description:
        "an image's A/B settings file (/etc/outpost/ota.json); read at the edge: startAgent takes its content",
    },
    "file-root": {
      type: "array",
      maxItems: 64,
      items: absolutePath,
      default: [],
      description: "directories whose files any release's build.fetch may name",
    },
    limits: {
      ...limitsConfigSchema,
      default: {},
      description: "default limits of partitions, builds and command promises",
    },
    isolated: {
      type: "boolean",
      description:
        "partitions as accounts and cgroups (default: when running as root), else laptop mode",
    },
    "cgroup-parent": {
      type: "string",
      minLength: 1,
      pattern: "^[^/]+$",
      description:
        "a group below the agent's own, by name, to make the partitions' and builds' groups in (default: the agent's own group)",
    },
    "user-prefix": {
      type: "string",
      minLength: 1,
      maxLength: 24,
      description: "partition accounts are <prefix>N (default: the data directory's prefix + p)",
    },
    "build-account-prefix": {
      type: "string",
      minLength: 1,
      maxLength: 16,
      description: "build accounts are <prefix><12 hex> (default: the data directory's prefix + b)",
    },
    "reader-user": {
      type: "string",
      minLength: 1,
      default: "nobody",
      description: "the unprivileged account descriptors and file: sources are read as",
    },
    "housekeeping-cores": {
      type: "integer",
      minimum: 1,
      default: 1,
      description: "whole cores never given to RT instances (the lowest, with CPU 0)",
    },
    "stop-timeout": seconds(10, "SIGTERM, then this many seconds, then the group is killed"),
    "action-budget": seconds(15, "a pass waits this long for one instance's action, then goes on"),
    "relay-timeout": seconds(10, "a relayed chunk waits this long for the master's ack, else 503"),
    heartbeat: {
      type: "object",
      additionalProperties: false,
      properties: {
        interval: { type: "number", exclusiveMinimum: 0, maximum: 3600, description: "seconds" },
        timeout: { type: "number", exclusiveMinimum: 0, maximum: 3600, description: "seconds" },
      },
      required: ["interval", "timeout"],
      description:
        "ZMTP heartbeats of the links to the master: a PING every interval, the master gone after timeout without an answer (default 2 and 6 with several masters, else 5 and 15)",
    },
    "full-pass": seconds(600, "every this often a pass re-fetches descriptors and rewrites files"),
    "usage-interval": seconds(60, "usage period"),
    "disk-interval": seconds(30, "measured disk mode: pause between rounds"),
    "restart-backoff": backoff(1, 60, "process restarts"),
    "install-backoff": backoff(10, 600, "failed installs"),
  },
} as const;

type Camel<S extends string> = S extends `${infer H}-${infer T}`
  ? `${H}${Capitalize<Camel<T>>}`
  : S;

/** What `startAgent` runs with: every key of `agentConfigSchema` in camelCase, defaults in. */
export interface AgentSettings {
  data: string;
  master: string;
  masterKey: string;
  name?: string;
  partitions: number;
  syncInterval: number;
  metrics?: string;
  board: string;
  /** Path of the A/B settings; `startAgent` takes their content as `AgentOptions.ota`. */
  ota?: string;
  fileRoot: string[];
  limits: LimitWords;
  isolated?: boolean;
  cgroupParent?: string;
  userPrefix?: string;
  buildAccountPrefix?: string;
  readerUser: string;
  housekeepingCores: number;
  stopTimeout: number;
  actionBudget: number;
  relayTimeout: number;
  heartbeat?: { interval: number; timeout: number };
  fullPass: number;
  usageInterval: number;
  diskInterval: number;
  restartBackoff: { initial: number; max: number };
  installBackoff: { initial: number; max: number };
}

// Fails to compile when AgentSettings and the schema's keys part ways.
type SchemaKey = Camel<keyof typeof agentConfigSchema.properties>;
const sameKeys: [SchemaKey] extends [keyof AgentSettings]
  ? [keyof AgentSettings] extends [SchemaKey]
    ? true
    : never
  : never = true;
void sameKeys;

type Defaulted =
  | "partitions"
  | "syncInterval"
  | "board"
  | "fileRoot"
  | "limits"
  | "readerUser"
  | "housekeepingCores"
  | "stopTimeout"
  | "actionBudget"
  | "relayTimeout"
  | "fullPass"
  | "usageInterval"
  | "diskInterval"
  | "restartBackoff"
  | "installBackoff";

/** Settings as given: what has a default may be left out. */
export type AgentSettingsInput = Omit<AgentSettings, Defaulted> &
  Partial<Pick<AgentSettings, Defaulted>>;

/** The YAML file as `cli/config` reads it: the schema's keys as written, none required. */
export type AgentConfigFile = {
  [K in keyof AgentSettings as Kebab<K & string>]?: AgentSettings[K];
};

type Kebab<S extends string> = S extends `${infer H}${infer T}`
  ? `${H extends Uppercase<H> ? (H extends Lowercase<H> ? H : `-${Lowercase<H>}`) : H}${Kebab<T>}`
  : S;

/** `sync-interval` → `syncInterval`, for each key of an object (not nested ones). */
export function camelKeys(words: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(words).map(([k, v]) => [
      k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()),
      v,
    ]),
  );
}

/** `syncInterval` → `sync-interval`, for each key of an object (not nested ones). */
export function kebabKeys(settings: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(settings).map(([k, v]) => [
      k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
      v,
    ]),
  );
}

const REQUIRED = ["data", "master", "master-key"];
const validate = new Ajv({
  allErrors: true,
  useDefaults: true,
  strict: true,
  allowUnionTypes: true,
}).compile({
  ...agentConfigSchema,
  required: REQUIRED,
});

/**
 * The settings `startAgent` runs with: `given`'s keys that are settings (other keys of
 * the options, such as the logger, are left out), checked against the schema, every
 * default filled in. A bad or missing one is `AgentConfigError` naming its key as in
 * the YAML.
 */
export function resolveAgentSettings(given: AgentSettingsInput): AgentSettings {
  const keys = Object.keys(agentConfigSchema.properties);
  const words = Object.fromEntries(
    Object.entries(kebabKeys(given as unknown as Record<string, unknown>)).filter(
      ([k, v]) => keys.includes(k) && v !== undefined,
    ),
  );
  const copy = structuredClone(words);
  if (!validate(copy)) {
    const issues = (validate.errors ?? []).map((e) => {
      const key =
        e.instancePath.slice(1).replaceAll("/", ".") ||
        (e.params as { missingProperty?: string }).missingProperty;
      return `${key ?? "settings"}: ${e.message ?? "invalid"}`;
    });
    throw new AgentConfigError(`agent settings: ${issues.join("; ")}`);
  }
  const settings = camelKeys(copy) as unknown as AgentSettings;
  masterEndpoints(settings);
  const beat = settings.heartbeat;
  if (beat && beat.timeout <= beat.interval)
    throw new AgentConfigError(
      `agent settings: heartbeat: timeout (${beat.timeout}) must be longer than interval (${beat.interval})`,
    );
  return settings;
}

/**
 * The master endpoints of `settings.master`, one per comma-separated entry; a bad entry
 * is `AgentConfigError` naming it.
 */
export function masterEndpoints(settings: Pick<AgentSettings, "master">): string[] {
  try {
    return parseEndpointList(settings.master).map((e) => e.text);
  } catch (err) {
    if (err instanceof LinkConfigError)
      throw new AgentConfigError(`agent settings: master: ${err.message}`);
    throw err;
  }
}

/** Milliseconds of a setting in seconds. */
export const ms = (seconds: number): number => Math.round(seconds * 1000);

/** `HOST:PORT` (an IPv6 host in brackets) as the pieces a server listens on. */
export function hostPortOf(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65535) return undefined;
  return { host: m[1] ?? m[2] ?? "", port };
}
