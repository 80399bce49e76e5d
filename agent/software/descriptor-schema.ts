import { REALTIME_SPEC_SCHEMA } from "../../realtime/index.js";

const NAME = "^[a-z0-9][a-z0-9-]{0,62}$";
const DURATION = "^[0-9]+(ms|s|m)$";

const argv = { type: "array", minItems: 1, items: { type: "string", minLength: 1 } };

/** JSON Schema of `software.yaml`; unknown keys are errors. */
export const descriptorSchema = {
  type: "object",
  additionalProperties: false,
  required: ["apiVersion", "name", "version"],
  properties: {
    apiVersion: { const: "outpost/v1" },
    name: { type: "string", pattern: NAME },
    version: { type: "string", minLength: 1 },
    build: {
      type: "object",
      additionalProperties: false,
      properties: {
        fetch: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["url", "sha256"],
            properties: {
              url: { type: "string", minLength: 1 },
              sha256: { type: "string", pattern: "^[0-9a-f]{64}$" },
              extract: { type: "boolean" },
            },
          },
        },
        steps: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["run"],
            properties: { run: argv },
          },
        },
      },
    },
    instance: {
      type: "object",
      additionalProperties: false,
      properties: {
        parameters: { type: "object" },
        files: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["path", "content"],
            properties: {
              path: { type: "string", pattern: "^(?!/)(?!.*(^|/)\\.\\.(/|$)).+$" },
              mode: { type: "string", pattern: "^0?[0-7]{3}$" },
              content: { type: "string" },
            },
          },
        },
        processes: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["name", "command"],
            properties: {
              name: { type: "string", pattern: NAME },
              command: argv,
              restart: { enum: ["always", "on-failure", "never"] },
              env: { type: "object", additionalProperties: { type: "string" } },
              resources: {
                type: "object",
                additionalProperties: false,
                properties: {
                  cpu: { type: "number", exclusiveMinimum: 0 },
                  memory: { type: ["string", "integer"] },
                  pids: { type: "integer", minimum: 1 },
                },
              },
              realtime: REALTIME_SPEC_SCHEMA,
            },
          },
        },
        promises: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["name"],
            minProperties: 2,
            properties: {
              name: { type: "string", pattern: NAME },
              tcp: { type: "string" },
              http: { type: "string" },
              file: { type: "string" },
              command: argv,
              interval: { type: "string", pattern: DURATION },
              timeout: { type: "string", pattern: DURATION },
            },
            oneOf: [
              { required: ["tcp"] },
              { required: ["http"] },
              { required: ["file"] },
              { required: ["command"] },
            ],
          },
        },
        publish: { type: "object", additionalProperties: { type: "string" } },
        requests: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["name", "software"],
            properties: {
              name: { type: "string", pattern: NAME },
              software: { type: "string", minLength: 1 },
              parameters: { type: "object" },
            },
          },
        },
      },
    },
  },
} as const;
