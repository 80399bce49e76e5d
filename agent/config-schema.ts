import { type LimitWords, limitsConfigSchema } from "./limit-settings.js";

/**
 * `outpost agent start --config FILE`: the agent's settings as YAML, keys named like the
 * command's flags. A flag given on the command line wins over the file.
 */
export interface AgentConfigFile {
  data?: string;
  master?: string;
  "master-key"?: string;
  name?: string;
  partitions?: number;
  "sync-interval"?: number;
  metrics?: string;
  board?: string;
  ota?: string;
  "file-root"?: string[];
  /** Default limits of partitions, builds and command promises (`--limit KIND.KEY=VALUE`). */
  limits?: LimitWords;
}

const absolutePath = { type: "string", minLength: 1, pattern: "^/" } as const;

export const agentConfigSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    data: { type: "string", minLength: 1 },
    master: { type: "string", pattern: "^tcp://[^\\s/]+:\\d{1,5}$" },
    "master-key": { type: "string", minLength: 40, maxLength: 40 },
    name: { type: "string", minLength: 1, maxLength: 128 },
    partitions: { type: "integer", minimum: 1, maximum: 254 },
    "sync-interval": { type: "number", exclusiveMinimum: 0, maximum: 3600 },
    metrics: { type: "string", pattern: "^(\\[[0-9a-fA-F:.]+\\]|[^:\\[\\]]+):\\d{1,5}$" },
    board: { type: "string", minLength: 1, maxLength: 256 },
    ota: { type: "string", minLength: 1 },
    "file-root": { type: "array", maxItems: 64, items: absolutePath },
    limits: limitsConfigSchema,
  },
} as const;
