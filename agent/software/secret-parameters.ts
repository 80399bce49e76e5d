import { templateVariables } from "../template.js";
import type { SoftwareDescriptor } from "./descriptor.js";

/** Marks a top-level property of `instance.parameters` secret. */
export const SECRET_KEYWORD = "x-outpost-secret";

/** What the node tells the master it must never show: parameter and connection keys. */
export interface SecretKeys {
  parameters: string[];
  connection: string[];
}

const MODE_OTHERS = 0o007;

type Json = Record<string, unknown>;

function isMap(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The top-level parameters the release marks `x-outpost-secret: true`, sorted. */
export function secretParameters(descriptor: SoftwareDescriptor): string[] {
  const properties = descriptor.instance?.parameters?.properties;
  if (!isMap(properties)) return [];
  return Object.entries(properties)
    .filter(([, schema]) => isMap(schema) && schema[SECRET_KEYWORD] === true)
    .map(([key]) => key)
    .sort();
}

/** The first secret parameter `text` uses as `{{params.KEY…}}`, if any. */
export function secretUsed(text: string, secrets: ReadonlySet<string>): string | undefined {
  for (const variable of templateVariables(text)) {
    const [head, key] = variable.split(".");
    if (head === "params" && key !== undefined && secrets.has(key)) return key;
  }
  return undefined;
}

/** Every place the keyword sits other than `properties.KEY`, or with a non-boolean value. */
function misplacedKeywords(schema: unknown, path: string[], out: string[]): void {
  if (Array.isArray(schema)) {
    schema.forEach((item, i) => {
      misplacedKeywords(item, [...path, String(i)], out);
    });
    return;
  }
  if (!isMap(schema)) return;
  for (const [key, value] of Object.entries(schema)) {
    if (key === SECRET_KEYWORD) {
      const where = ["instance.parameters", ...path, key].join(".");
      const topLevel = path.length === 2 && path[0] === "properties";
      if (!topLevel)
        out.push(
          `${where}: only a top-level parameter (instance.parameters.properties.NAME) can be secret`,
        );
      else if (typeof value !== "boolean") out.push(`${where}: must be true or false`);
      continue;
    }
    misplacedKeywords(value, [...path, key], out);
  }
}

/**
 * Pure: every place the descriptor would expose a secret parameter. A command line
 * (process or command promise) is readable by every process on the node through
 * `/proc/PID/cmdline`; a promise's target and a file's path are shown in messages the
 * master keeps; a file holding a secret must not be readable by others. Secrets belong
 * in `env` and in file contents. Each problem names where, the process or promise, and
 * the parameter.
 */
export function secretProblems(descriptor: SoftwareDescriptor): string[] {
  const out: string[] = [];
  misplacedKeywords(descriptor.instance?.parameters, [], out);
  const secrets = new Set(secretParameters(descriptor));
  if (secrets.size === 0) return out;
  const spec = descriptor.instance ?? {};
  const argvHint =
    "a command line is readable by every process on the node (/proc/PID/cmdline); pass it in env or in a file";
  (spec.processes ?? []).forEach((p, i) => {
    p.command.forEach((arg, j) => {
      const key = secretUsed(arg, secrets);
      if (key)
        out.push(
          `instance.processes[${i}].command[${j}]: process '${p.name}' puts secret parameter '${key}' in its command line: ${argvHint}`,
        );
    });
  });
  (spec.promises ?? []).forEach((p, i) => {
    (p.command ?? []).forEach((arg, j) => {
      const key = secretUsed(arg, secrets);
      if (key)
        out.push(
          `instance.promises[${i}].command[${j}]: promise '${p.name}' puts secret parameter '${key}' in its command line: ${argvHint}`,
        );
    });
    for (const kind of ["tcp", "http", "file"] as const) {
      const target = p[kind];
      const key = target === undefined ? undefined : secretUsed(target, secrets);
      if (key)
        out.push(
          `instance.promises[${i}].${kind}: promise '${p.name}' uses secret parameter '${key}' in its target, which its result shows at the master`,
        );
    }
  });
  (spec.files ?? []).forEach((f, i) => {
    const inPath = secretUsed(f.path, secrets);
    if (inPath)
      out.push(
        `instance.files[${i}].path: uses secret parameter '${inPath}' in a file name, which errors and listings show; put it in the file's content`,
      );
    const inContent = secretUsed(f.content, secrets);
    const mode = f.mode ?? "0640";
    if (inContent && (Number.parseInt(mode, 8) & MODE_OTHERS) !== 0)
      out.push(
        `instance.files[${i}].mode: '${f.path}' holds secret parameter '${inContent}' but mode ${mode} lets every account read it; use 0600 or 0640`,
      );
  });
  return out;
}

/**
 * Pure: the keys the master must mask for instances of this release: its secret
 * parameters, and the `publish:` keys whose template uses one.
 */
export function secretKeys(descriptor: SoftwareDescriptor): SecretKeys {
  const parameters = secretParameters(descriptor);
  const secrets = new Set(parameters);
  const connection = Object.entries(descriptor.instance?.publish ?? {})
    .filter(([, template]) => secretUsed(template, secrets) !== undefined)
    .map(([key]) => key)
    .sort();
  return { parameters, connection };
}

/**
 * Pure: the parameters of request `index` (`requests:`) that carry a secret of this
 * release, so the master masks them in the requested instance too.
 */
export function requestSecretKeys(descriptor: SoftwareDescriptor, index: number): string[] {
  const secrets = new Set(secretParameters(descriptor));
  const parameters = descriptor.instance?.requests?.[index]?.parameters ?? {};
  return Object.entries(parameters)
    .filter(([, v]) => typeof v === "string" && secretUsed(v, secrets) !== undefined)
    .map(([key]) => key)
    .sort();
}

/**
 * The secret keys an instance reports for the release `software` it is asked to run
 * (`target`), with those of the release it still runs while it switches (`running`);
 * undefined while the target is not installed here, so the master keeps masking
 * everything until it is.
 */
export function reportedSecretKeys(
  software: string,
  target: SoftwareDescriptor | undefined,
  running?: SoftwareDescriptor,
): (SecretKeys & { software: string }) | undefined {
  if (!target) return undefined;
  const parameters = new Set<string>();
  const connection = new Set<string>();
  for (const d of running ? [target, running] : [target]) {
    const keys = secretKeys(d);
    for (const k of keys.parameters) parameters.add(k);
    for (const k of keys.connection) connection.add(k);
  }
  return { software, parameters: [...parameters].sort(), connection: [...connection].sort() };
}
