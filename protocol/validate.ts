import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { MessageInvalidError } from "./errors.js";
import {
  type InstanceReport,
  type MasterPush,
  type MasterReply,
  type NodeRequest,
  type ProtocolVersion,
  type RejectedInstance,
  SUPPORTED_VERSIONS,
} from "./messages.js";
import {
  instanceReportSchema,
  masterPushSchemas,
  masterReplySchemas,
  nodeRequestSchemas,
} from "./schemas.js";

/**
 * An ajv instance that knows the `bytes` keyword: a CBOR byte string (Uint8Array) of at
 * most `maxLength` bytes, which JSON Schema has no type for.
 */
function cborAjv(): Ajv {
  const ajv = new Ajv({ allErrors: false, strict: true });
  function checkBytes(schema: { maxLength: number }, value: unknown): boolean {
    const ok = value instanceof Uint8Array && value.length <= schema.maxLength;
    checkBytes.errors = ok
      ? []
      : [
          {
            keyword: "bytes",
            message:
              value instanceof Uint8Array
                ? `must be at most ${schema.maxLength} bytes`
                : "must be a CBOR byte string",
            params: {},
          },
        ];
    return ok;
  }
  checkBytes.errors = [] as Partial<ErrorObject>[];
  ajv.addKeyword({ keyword: "bytes", schemaType: "object", errors: true, validate: checkBytes });
  return ajv;
}

const ajv = cborAjv();

function compileAll<K extends string>(schemas: Record<K, object>): Map<string, ValidateFunction> {
  return new Map(Object.entries(schemas).map(([k, s]) => [k, ajv.compile(s as object)]));
}

const requestValidators = compileAll(nodeRequestSchemas);
const instanceReportValidator = ajv.compile(instanceReportSchema);
const replyValidators = compileAll(masterReplySchemas);
const pushValidators = compileAll(masterPushSchemas);

/** A node request, checked against its schema; anything else throws MessageInvalidError. */
export function validateNodeRequest(value: unknown): NodeRequest {
  return check<NodeRequest>(value, requestValidators, "request");
}

/** A master reply, checked against its schema; anything else throws MessageInvalidError. */
export function validateMasterReply(value: unknown): MasterReply {
  return check<MasterReply>(value, replyValidators, "reply");
}

/** A master push (`wake`), checked against its schema; anything else throws MessageInvalidError. */
export function validateMasterPush(value: unknown): MasterPush {
  return check<MasterPush>(value, pushValidators, "push");
}

/** The version a decoded message says it speaks, when this side speaks it too. */
export function supportedVersionOf(value: unknown): ProtocolVersion | undefined {
  const v = (value as { v?: unknown } | null)?.v;
  return SUPPORTED_VERSIONS.find((known) => known === v);
}

/**
 * A report's instances, each checked on its own: one invalid instance (an oversized
 * message, a bad field) is rejected with its reason while the others are kept, so one
 * instance can never silence the node's whole report.
 */
export function validateInstanceReports(values: readonly unknown[]): {
  valid: InstanceReport[];
  rejected: RejectedInstance[];
} {
  const valid: InstanceReport[] = [];
  const rejected: RejectedInstance[] = [];
  for (const [i, value] of values.entries()) {
    if (instanceReportValidator(value)) {
      valid.push(value as InstanceReport);
      continue;
    }
    const rawName = (value as { name?: unknown }).name;
    const name = typeof rawName === "string" ? rawName.slice(0, 256) : `instances[${i}]`;
    rejected.push({ name, reason: formatError(instanceReportValidator.errors?.[0]).slice(0, 256) });
  }
  return { valid, rejected };
}

function check<T>(value: unknown, validators: Map<string, ValidateFunction>, what: string): T {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MessageInvalidError(`${what} is not a CBOR map`, undefined);
  }
  const fields = value as Record<string, unknown>;
  const id =
    Number.isInteger(fields.id) && (fields.id as number) >= 0 && (fields.id as number) <= 0xffffffff
      ? (fields.id as number)
      : undefined;
  if (supportedVersionOf(fields) === undefined) {
    throw new MessageInvalidError(
      `unsupported protocol version ${describe(fields.v)}; this side speaks ${SUPPORTED_VERSIONS.join(" and ")}`,
      id,
    );
  }
  const type = fields.type;
  const validate = typeof type === "string" ? validators.get(type) : undefined;
  if (!validate) {
    throw new MessageInvalidError(
      `unknown ${what} type ${describe(type)}; known: ${[...validators.keys()].join(", ")}`,
      id,
    );
  }
  if (!validate(value)) {
    const first = validate.errors?.[0];
    throw new MessageInvalidError(`${String(type)} ${what}: ${formatError(first)}`, id);
  }
  const backwards = backwardsRange(fields);
  if (backwards) throw new MessageInvalidError(`${String(type)} ${what}: ${backwards}`, id);
  return value as T;
}

/** JSON Schema cannot compare two fields: a sequence range must not run backwards. */
function backwardsRange(fields: Record<string, unknown>): string | undefined {
  for (const [from, to] of [
    ["firstSeq", "lastSeq"],
    ["fromSeq", "toSeq"],
  ] as const) {
    const a = fields[from];
    const b = fields[to];
    if (typeof a === "number" && typeof b === "number" && b < a) {
      return `${to} ${b} is below ${from} ${a}`;
    }
  }
  return undefined;
}

function formatError(error: ErrorObject | undefined): string {
  if (!error) return "invalid";
  const where =
    error.instancePath === "" ? "" : `${error.instancePath.slice(1).replaceAll("/", ".")}: `;
  if (error.keyword === "additionalProperties") {
    return `${where}unknown field '${String(error.params.additionalProperty)}'`;
  }
  if (error.keyword === "required") {
    return `${where}missing field '${String(error.params.missingProperty)}'`;
  }
  return `${where}${error.message ?? "invalid"}`;
}

function describe(value: unknown): string {
  if (typeof value === "string") return `'${value.slice(0, 64)}'`;
  if (value === undefined) return "(missing)";
  return typeof value === "object" ? typeof value : String(value).slice(0, 64);
}
