import { DURATION_PATTERN } from "../common/index.js";

/** A duration: `250ms`, `1.5s`, `2m`, `1h` (common's grammar), or a number of milliseconds. */
const durationSchema = {
  anyOf: [
    { type: "string", pattern: DURATION_PATTERN },
    { type: "number", minimum: 0 },
  ],
};

/** `required` in a subschema, restated so ajv's strictRequired finds the keys defined. */
const has = (...keys: string[]) => ({
  type: "object",
  required: keys,
  properties: Object.fromEntries(keys.map((k) => [k, true])),
});

const name = { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_.:-]+$" };
const hostPort = { type: "string", pattern: "^[^\\s:]+:[0-9]{1,5}$" };

/** Types held in 16-bit registers (every type but `bool`, which coils and discrete inputs hold). */
const REGISTER_TYPES = [
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "float32",
  "float64",
  "string",
];

const modbusTag = {
  type: "object",
  additionalProperties: false,
  required: ["name", "register", "address", "type"],
  properties: {
    name,
    register: { enum: ["coil", "discrete", "input", "holding"] },
    address: { type: "integer", minimum: 0, maximum: 65535 },
    type: { enum: ["bool", ...REGISTER_TYPES] },
    order: { enum: ["ABCD", "CDAB", "BADC", "DCBA"], default: "ABCD" },
    length: { type: "integer", minimum: 1, maximum: 125 },
    scale: { type: "number" },
    offset: { type: "number" },
    unit: { type: "string", maxLength: 32 },
  },
  allOf: [
    {
      if: { type: "object", properties: { register: { enum: ["coil", "discrete"] } } },
      // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword
      then: { type: "object", properties: { type: { enum: ["bool"] } } },
      else: { type: "object", properties: { type: { enum: REGISTER_TYPES } } },
    },
    {
      if: { type: "object", properties: { type: { const: "string" } } },
      // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword
      then: has("length"),
      else: { type: "object", not: has("length") },
    },
    {
      // Scaling a 64-bit integer would round it through a double: refuse instead.
      if: { type: "object", properties: { type: { enum: ["int64", "uint64", "bool", "string"] } } },
      // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword
      then: { type: "object", not: { anyOf: [has("scale"), has("offset")] } },
    },
  ],
};

const modbus = {
  type: "object",
  additionalProperties: false,
  properties: {
    tcp: hostPort,
    rtuOverTcp: hostPort,
    rtu: {
      type: "object",
      additionalProperties: false,
      required: ["port"],
      properties: {
        port: { type: "string", minLength: 1 },
        baud: { type: "integer", minimum: 300, maximum: 921600, default: 19200 },
        parity: { enum: ["none", "even", "odd"], default: "even" },
        dataBits: { enum: [7, 8], default: 8 },
        stopBits: { enum: [1, 2], default: 1 },
      },
    },
    unit: { type: "integer", minimum: 0, maximum: 255, default: 1 },
    timeout: { ...durationSchema, default: "1s" },
    retries: { type: "integer", minimum: 0, maximum: 10, default: 1 },
    coalesce: { type: "boolean", default: true },
    maxGap: { type: "integer", minimum: 0, maximum: 124, default: 0 },
    maxRegisters: { type: "integer", minimum: 1, maximum: 125, default: 125 },
    maxBits: { type: "integer", minimum: 1, maximum: 2000, default: 2000 },
    pipeline: { type: "integer", minimum: 1, maximum: 32, default: 1 },
  },
  oneOf: [has("tcp"), has("rtu"), has("rtuOverTcp")],
};

const opcuaTag = {
  type: "object",
  additionalProperties: false,
  required: ["name", "node"],
  properties: {
    name,
    node: {
      type: "string",
      pattern:
        "^(ns=[0-9]{1,5};)?(i=[0-9]{1,10}|s=.+|g=[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}|b=[A-Za-z0-9+/]+=*)$",
    },
    samplingInterval: durationSchema,
    queueSize: { type: "integer", minimum: 1, maximum: 10000, default: 1 },
    maxArrayLength: { type: "integer", minimum: 0, maximum: 1048576, default: 1024 },
    deadband: {
      type: "object",
      additionalProperties: false,
      properties: {
        absolute: { type: "number", minimum: 0 },
        percent: { type: "number", minimum: 0, maximum: 100 },
      },
      oneOf: [has("absolute"), has("percent")],
    },
    unit: { type: "string", maxLength: 32 },
  },
};

const opcua = {
  type: "object",
  additionalProperties: false,
  required: ["endpoint"],
  properties: {
    endpoint: { type: "string", pattern: "^opc\\.tcp://" },
    security: {
      type: "object",
      additionalProperties: false,
      default: { mode: "None" },
      properties: {
        mode: { enum: ["None", "Sign", "SignAndEncrypt"], default: "None" },
        policy: { enum: ["Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"] },
        user: { type: "string", minLength: 1 },
        password: { type: "string" },
        certificate: { type: "string", minLength: 1 },
        privateKey: { type: "string", minLength: 1 },
      },
      dependencies: { user: ["password"], certificate: ["privateKey"] },
    },
    timeout: { ...durationSchema, default: "10s" },
    // No default here: it depends on the device's interval (see OpcuaConnectionConfig).
    hangTimeout: durationSchema,
    batchSize: { type: "integer", minimum: 1, maximum: 10000, default: 1000 },
  },
};

/**
 * JSON Schema of the collector config file; `cli/config`'s `loadConfigFile` validates
 * against it (naming file, line and key) and fills in the defaults.
 */
export const collectorConfigSchema = {
  type: "object",
  additionalProperties: false,
  required: ["devices"],
  properties: {
    dataDir: { type: "string", minLength: 1, default: "/var/lib/outpost/collector" },
    devices: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "tags"],
        properties: {
          name,
          interval: { ...durationSchema, default: "1s" },
          modbus,
          opcua,
          tags: { type: "array", minItems: 1 },
        },
        oneOf: [has("modbus"), has("opcua")],
        if: has("modbus"),
        // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword
        then: { type: "object", properties: { tags: { type: "array", items: modbusTag } } },
        else: { type: "object", properties: { tags: { type: "array", items: opcuaTag } } },
      },
    },
    output: {
      type: "object",
      additionalProperties: false,
      required: ["buffer"],
      properties: {
        buffer: { type: "string", minLength: 1 },
        stream: { ...name, default: "telemetry" },
        // `agent`: `collector run` also forwards the buffer to the master through the
        // node agent's local API (OUTPOST_API).
        forward: { enum: ["agent"] },
      },
    },
  },
} as const;
