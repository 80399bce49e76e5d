/** JSON Schemas of the HTTP API's request bodies; names are the same words as the CLI's. */
const name = {
  type: "string",
  pattern: "^[a-z0-9][a-z0-9._-]{0,62}$",
} as const;

export const NAME_RULE =
  "1-63 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit";

const software = { type: "string", minLength: 1, maxLength: 2048 } as const;

export const addNodeBody = {
  type: "object",
  additionalProperties: false,
  required: ["name", "publicKey"],
  properties: { name, publicKey: { type: "string" } },
} as const;

export const supplyBody = {
  type: "object",
  additionalProperties: false,
  required: ["software"],
  properties: { software },
} as const;

export const requestInstanceBody = {
  type: "object",
  additionalProperties: false,
  required: ["name", "software"],
  properties: {
    name,
    software,
    node: name,
    parameters: {
      type: "object",
      maxProperties: 256,
      propertyNames: { minLength: 1, maxLength: 128 },
      additionalProperties: { type: "string", maxLength: 4096 },
    },
    /** Parameter keys never shown, besides those the release marks `x-outpost-secret`. */
    secrets: {
      type: "array",
      maxItems: 256,
      items: { type: "string", minLength: 1, maxLength: 128 },
    },
    cores: { type: "integer", minimum: 0, maximum: 4096 },
    /** Keep a request no node can take now as `waiting` (default) instead of refusing it. */
    wait: { type: "boolean" },
  },
} as const;
