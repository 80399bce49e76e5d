import { readFileSync } from "node:fs";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { isMap, isNode, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { ConfigError, type ConfigIssue } from "./config-error.js";
import { didYouMean } from "./did-you-mean.js";
import { formatKeyPath, parseJsonPointer } from "./key-path.js";

const ajv = new Ajv({
  allErrors: true,
  useDefaults: true,
  verbose: true,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
});
const compiled = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: object): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/**
 * Reads a YAML file and validates it against a JSON Schema. Defaults from the schema
 * are filled in. Every failure is a ConfigError naming the file, line, column and key;
 * unknown keys get a "did you mean" hint when a known key is close.
 */
export function loadConfigFile<T>(file: string, schema: object): T {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(file, [
      { key: "", line: 0, column: 0, message: `cannot read (${reason})` },
    ]);
  }
  return parseConfigText<T>(text, file, schema);
}

export function parseConfigText<T>(text: string, file: string, schema: object): T {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { key: "", line: pos.line, column: pos.col, message: firstLine(e.message) };
      }),
    );
  }
  const value: unknown = doc.toJS() ?? {};
  const validate = validatorFor(schema);
  if (!validate(value)) {
    const issues = (validate.errors ?? []).map((e) => locate(e, doc.contents, lineCounter));
    throw new ConfigError(file, issues);
  }
  return value as T;
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}

function locate(error: ErrorObject, root: unknown, lines: LineCounter): ConfigIssue {
  const path = parseJsonPointer(error.instancePath);
  let node = nodeAt(root, path);
  let message = error.message ?? "invalid";

  if (error.keyword === "additionalProperties") {
    const extra = String(error.params.additionalProperty);
    path.push(extra);
    node = keyNodeOf(node, extra) ?? node;
    const known = Object.keys(
      (error.parentSchema as { properties?: object } | undefined)?.properties ?? {},
    );
    const hint = didYouMean(extra, known);
    message = `unknown key${hint ? `; did you mean '${hint}'?` : ""}`;
  } else if (error.keyword === "required") {
    path.push(String(error.params.missingProperty));
    message = "required key is missing";
  } else if (error.keyword === "enum") {
    message = `must be one of: ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
  }

  const offset = isNode(node) && node.range ? node.range[0] : 0;
  const pos = lines.linePos(offset);
  return { key: formatKeyPath(path), line: pos.line, column: pos.col, message };
}

/** The node at `path`, or the deepest existing ancestor when the path runs out. */
function nodeAt(root: unknown, path: readonly (string | number)[]): unknown {
  let node = root;
  for (const part of path) {
    let next: unknown;
    if (isMap(node)) next = node.items.find((pair) => keyOf(pair.key) === String(part))?.value;
    else if (isSeq(node) && typeof part === "number") next = node.items[part];
    if (!isNode(next)) return node;
    node = next;
  }
  return node;
}

function keyNodeOf(map: unknown, key: string): Node | undefined {
  if (!isMap(map)) return undefined;
  const pair = map.items.find((p) => keyOf(p.key) === key);
  return isNode(pair?.key) ? pair.key : undefined;
}

function keyOf(key: unknown): string {
  return isNode(key) ? String(key.toJSON()) : String(key);
}
