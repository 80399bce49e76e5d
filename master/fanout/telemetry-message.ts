import { Ajv } from "ajv";
import type { NdjsonReading } from "../readings/ndjson-format.js";
import type { Reading } from "../readings/reading.js";
import { jsonValue, type ValueType, valueFromJson, valueType } from "../readings/reading-values.js";
import type { DecodedRecord } from "../readings/record-reader.js";
import { readingValue } from "../readings/value-kind.js";
import type { OutboxEntry, StoredChunk } from "../store.js";

/** The encoding's version, `v` of every message: a consumer refuses one it does not know. */
export const MESSAGE_VERSION = 1;

/**
 * Largest message a chunk's readings make: the readings of a bigger chunk are split in
 * parts of at most this many bytes (NATS refuses a message over the server's
 * `max_payload`, 1 MiB by default).
 */
export const MAX_MESSAGE_BYTES = 512 * 1024;

/** One reading of a message: an NDJSON reading (ndjson-format.ts) without node and stream. */
export type MessageReading = Omit<NdjsonReading, "node" | "stream">;

/**
 * What a message of the fan-out holds, as UTF-8 JSON: the readings of one chunk (or of
 * one part of it, `part` counting from 0 up to `parts` − 1), values by the rule of every
 * text Outpost writes of readings (64-bit integers as decimal strings, NaN and ±Infinity
 * as strings, `type` saying how to read `value`).
 */
export interface TelemetryMessage {
  v: typeof MESSAGE_VERSION;
  node: string;
  stream: string;
  chunkId: number;
  part: number;
  parts: number;
  readings: MessageReading[];
}

/**
 * The messages of a decoded chunk, in the order of its records: one, or several parts
 * of at most MAX_MESSAGE_BYTES (a single reading over that is a part of its own). Built
 * in the ingest transaction, so what is published is what was committed.
 */
export function telemetryMessages(
  chunk: StoredChunk,
  rows: readonly DecodedRecord[],
): OutboxEntry[] {
  const head = (part: number, parts: number) =>
    `{"v":${MESSAGE_VERSION},"node":${JSON.stringify(chunk.node)},"stream":${JSON.stringify(chunk.stream)},"chunkId":${chunk.chunkId},"part":${part},"parts":${parts},"readings":[`;
  // A part's bound leaves room for the head of the largest part numbers.
  const budget = MAX_MESSAGE_BYTES - Buffer.byteLength(head(999_999, 999_999)) - 2;
  const groups: string[][] = [[]];
  let bytes = 0;
  for (const r of rows) {
    const text = JSON.stringify(messageReading(r));
    const size = Buffer.byteLength(text) + 1;
    let group = groups[groups.length - 1] as string[];
    if (group.length > 0 && bytes + size > budget) {
      group = [];
      groups.push(group);
      bytes = 0;
    }
    group.push(text);
    bytes += size;
  }
  return groups.map((group, part) => ({
    node: chunk.node,
    stream: chunk.stream,
    chunkId: chunk.chunkId,
    part,
    parts: groups.length,
    readings: group.length,
    payload: Buffer.from(`${head(part, groups.length)}${group.join(",")}]}`),
  }));
}

function messageReading(r: DecodedRecord): MessageReading {
  const value = readingValue(r.kind, r.value);
  return {
    ts: r.ts,
    device: r.device,
    tag: r.tag,
    type: valueType(value),
    value: jsonValue(value),
    ...(r.unit !== null ? { unit: r.unit } : {}),
    quality: r.quality,
    ...(r.status !== null ? { status: r.status } : {}),
    seq: r.seq,
    ...(r.extra !== null ? { extra: JSON.parse(r.extra) as Record<string, unknown> } : {}),
  };
}

const VALUE_TYPES: ValueType[] = [
  "double",
  "int64",
  "uint64",
  "bool",
  "string",
  "double[]",
  "int64[]",
  "uint64[]",
  "bool[]",
  "null",
];

const name = { type: "string", minLength: 1, maxLength: 256 };
const count = { type: "integer", minimum: 0 };

/** What a consumer accepts (messages come from whoever may publish on the subjects). */
const messageSchema = {
  type: "object",
  required: ["v", "node", "stream", "chunkId", "part", "parts", "readings"],
  properties: {
    v: { const: MESSAGE_VERSION },
    node: name,
    stream: name,
    chunkId: count,
    part: count,
    parts: { type: "integer", minimum: 1 },
    readings: {
      type: "array",
      items: {
        type: "object",
        required: ["ts", "device", "tag", "type", "value", "quality", "seq"],
        properties: {
          ts: { type: "integer" },
          device: { type: "string" },
          tag: { type: "string" },
          type: { enum: VALUE_TYPES },
          value: {
            type: ["number", "string", "boolean", "null", "array"],
            items: { type: ["number", "string", "boolean"] },
          },
          unit: { type: "string" },
          quality: { type: "string" },
          status: { type: "string" },
          seq: count,
          extra: { type: "object" },
        },
      },
    },
  },
};

const validate = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true }).compile(
  messageSchema,
);

/**
 * A message's readings, typed again (64-bit integers as bigints); throws an Error saying
 * what is wrong when the payload is not a message of this encoding.
 */
export function readTelemetryMessage(payload: Uint8Array): {
  message: TelemetryMessage;
  readings: Reading[];
} {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload).toString("utf8"));
  } catch (err) {
    throw new Error(`not JSON (${(err as Error).message})`);
  }
  if (!validate(parsed)) {
    const e = validate.errors?.[0];
    throw new Error(
      `not a telemetry message: ${e?.instancePath || "/"} ${e?.message ?? ""}`.trim(),
    );
  }
  const message = parsed as unknown as TelemetryMessage;
  const readings = message.readings.map(({ type, value, ...rest }, i) => {
    try {
      return {
        ...rest,
        node: message.node,
        stream: message.stream,
        value: valueFromJson(value, type),
      };
    } catch {
      throw new Error(`not a telemetry message: /readings/${i}/value is not of type ${type}`);
    }
  });
  return { message, readings };
}
