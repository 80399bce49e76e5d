import { readFileSync } from "node:fs";
import { isNode, LineCounter, parseDocument } from "yaml";
import type { ConfigIssue } from "./config-error.js";

/**
 * A config issue found after schema validation (a component's own semantic check names the
 * key as `devices[1].tags[3].name`), located at that key's value in the YAML file.
 */
export function issueAtKey(file: string, key: string, message: string): ConfigIssue {
  const lineCounter = new LineCounter();
  const doc = parseDocument(readFileSync(file, "utf8"), { lineCounter });
  const path = [...key.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) =>
    m[2] === undefined ? (m[1] as string) : Number(m[2]),
  );
  const node = doc.getIn(path, true);
  if (!isNode(node) || !node.range) return { key, line: 0, column: 0, message };
  const { line, col } = lineCounter.linePos(node.range[0]);
  return { key, line, column: col, message };
}
