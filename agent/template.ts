import { TemplateError } from "./errors.js";

/** Template variables: nested records of strings and numbers (`params.port`, `partition.address`). */
export interface TemplateVars {
  [name: string]: string | number | boolean | TemplateVars;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)\s*\}\}/g;

function lookup(vars: TemplateVars, path: string): string | undefined {
  let value: TemplateVars[string] | undefined = vars;
  for (const key of path.split(".")) {
    if (typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
    value = value[key];
  }
  return typeof value === "object" || value === undefined ? undefined : String(value);
}

/** The variables `text` uses, in order (`params.port`, `partition.address`). */
export function templateVariables(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/**
 * Replaces each `{{a.b}}` with its variable. No logic, no escaping: descriptors are
 * declarative and their output goes to argv and files, never through a shell by us.
 * An unknown variable is an error naming it and `where` it was used.
 */
export function renderTemplate(text: string, vars: TemplateVars, where: string): string {
  return text.replace(PLACEHOLDER, (_match, path: string) => {
    const value = lookup(vars, path);
    if (value === undefined) throw new TemplateError(path, where);
    return value;
  });
}
