import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { closest, distance } from "fastest-levenshtein";
import { parseDocument } from "yaml";
import { DescriptorError, ParametersError, SecretExposedError } from "../errors.js";
import type { SoftwareDescriptor } from "./descriptor.js";
import { descriptorSchema } from "./descriptor-schema.js";
import { seccompProblems } from "./seccomp-names.js";
import { SECRET_KEYWORD, secretProblems } from "./secret-parameters.js";

const ajv = new Ajv({
  allErrors: true,
  verbose: true,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
});
const validateDescriptor = ajv.compile(descriptorSchema);

/** Request parameters arrive as strings from the master; the schema's types coerce them. */
const parameterAjv = new Ajv({
  allErrors: true,
  strict: false,
  coerceTypes: true,
  useDefaults: true,
});
parameterAjv.addKeyword({ keyword: SECRET_KEYWORD, schemaType: "boolean" });

function keyPath(pointer: string): string {
  const parts = pointer
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  return parts.length === 0 ? "(top level)" : parts.join(".");
}

function describe(error: ErrorObject): string {
  const where = keyPath(error.instancePath);
  if (error.keyword === "additionalProperties") {
    const extra = String(error.params.additionalProperty);
    const known = Object.keys(
      (error.parentSchema as { properties?: object } | undefined)?.properties ?? {},
    );
    const near = known.length > 0 ? closest(extra, known) : undefined;
    const hint =
      near !== undefined && distance(extra, near) <= 2 ? `; did you mean '${near}'?` : "";
    return `${where === "(top level)" ? extra : `${where}.${extra}`}: unknown key${hint}`;
  }
  if (error.keyword === "required")
    return `${where === "(top level)" ? "" : `${where}.`}${String(error.params.missingProperty)}: required key is missing`;
  if (error.keyword === "enum")
    return `${where}: must be one of ${(error.params.allowedValues as unknown[]).join(", ")}`;
  return `${where}: ${error.message ?? "invalid"}`;
}

/** Ajv reports every branch of a `oneOf`; keep the summary, drop the branches. */
function relevant(errors: ErrorObject[]): ErrorObject[] {
  const oneOf = errors.filter((e) => e.keyword === "oneOf").map((e) => e.instancePath);
  return errors.filter(
    (e) => e.keyword === "oneOf" || !(e.keyword === "required" && oneOf.includes(e.instancePath)),
  );
}

/**
 * Parses and validates a descriptor's text. Every failure is one DescriptorError naming
 * the descriptor `url` and each problem by key path, including a parameters schema that
 * is not valid JSON Schema; a secret parameter put where others can read it is a
 * SecretExposedError (see secret-parameters.ts).
 */
export function parseDescriptor(text: string, url: string): SoftwareDescriptor {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0)
    throw new DescriptorError(
      url,
      doc.errors.map((e) => `YAML: ${e.message.split("\n")[0] ?? e.message}`),
    );
  const value: unknown = doc.toJS();
  if (!validateDescriptor(value)) {
    throw new DescriptorError(url, relevant(validateDescriptor.errors ?? []).map(describe));
  }
  const descriptor = value as unknown as SoftwareDescriptor;
  const syscalls = seccompProblems(descriptor);
  if (syscalls.length > 0) throw new DescriptorError(url, syscalls);
  const parameters = descriptor.instance?.parameters;
  if (parameters !== undefined) {
    try {
      parameterAjv.compile(parameters);
    } catch (err) {
      throw new DescriptorError(url, [`instance.parameters: ${(err as Error).message}`]);
    }
  }
  const exposed = secretProblems(descriptor);
  if (exposed.length > 0) throw new SecretExposedError(url, exposed);
  return descriptor;
}

const compiled = new WeakMap<object, ValidateFunction>();

/**
 * Validates request parameters against the descriptor's schema, coercing the master's
 * strings to the schema's types and filling in defaults. Returns the typed parameters or
 * throws a DescriptorError listing every problem.
 */
export function validateParameters(
  descriptor: SoftwareDescriptor,
  instance: string,
  parameters: Record<string, unknown>,
): Record<string, unknown> {
  const schema = descriptor.instance?.parameters ?? { type: "object" };
  let validate = compiled.get(schema);
  if (!validate) {
    validate = parameterAjv.compile(schema);
    compiled.set(schema, validate);
  }
  const copy = structuredClone(parameters);
  if (!validate(copy)) {
    throw new ParametersError(
      instance,
      (validate.errors ?? []).map((e) => describe(e).replace("(top level)", "parameters")),
    );
  }
  return copy;
}
