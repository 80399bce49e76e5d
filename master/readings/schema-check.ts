import avro from "avsc";
import { SchemaRefusedError } from "../errors.js";
import { exactLong } from "./avro-long.js";

/** Largest schema text taken, in UTF-8 bytes. */
export const MAX_SCHEMA_BYTES = 64 * 1024;
/** Deepest nesting of JSON arrays and objects in a schema's text. */
export const MAX_SCHEMA_DEPTH = 32;

/**
 * Checks an announced schema and compiles it for decoding: bounded in size and nesting
 * before it is parsed at all, an Avro schema avsc accepts (no logical types: every field
 * decodes to its plain type), and the SHA-256 of its Parsing Canonical Form equal to
 * `fingerprint`. Throws SchemaRefusedError otherwise. What the schema describes is not
 * checked here: a schema that names no readings makes its chunks fail to decode (kept
 * raw, counted), see record-reader.ts.
 */
export function compileSchema(fingerprint: Uint8Array, text: string): avro.Type {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_SCHEMA_BYTES)
    throw new SchemaRefusedError("too_large", `${bytes} bytes, at most ${MAX_SCHEMA_BYTES}`);
  const depth = nestingDepth(text);
  if (depth > MAX_SCHEMA_DEPTH)
    throw new SchemaRefusedError("too_deep", `nested ${depth} deep, at most ${MAX_SCHEMA_DEPTH}`);
  let type: avro.Type;
  try {
    type = avro.Type.forSchema(JSON.parse(text) as avro.Schema, {
      registry: { long: exactLong },
      // Every union wrapped: a value's branch says its kind (a double 1 is not a long 1).
      wrapUnions: true,
    });
  } catch (err) {
    throw new SchemaRefusedError(
      "invalid",
      `not an Avro schema (${err instanceof Error ? err.message : String(err)})`.slice(0, 512),
    );
  }
  const actual = type.fingerprint("sha256");
  if (!actual.equals(Buffer.from(fingerprint)))
    throw new SchemaRefusedError(
      "fingerprint",
      `its fingerprint is ${actual.toString("hex")}, not ${Buffer.from(fingerprint).toString("hex")}`,
    );
  return type;
}

/** Pure: the deepest nesting of `[` and `{` outside strings (the text need not be JSON). */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}
