import { createHash } from "node:crypto";
import { resolve } from "node:path";
import type { CgroupDirs } from "../native/index.js";
import type { AgentNaming, Journal } from "./converge/journal.js";

/**
 * The production agent's data directories (an Outpost image's, on its data partition,
 * and the plain one): their accounts and groups keep the `outpost-` names.
 */
export const DEFAULT_DATA_DIRS: readonly string[] = ["/var/lib/outpost/agent", "/var/lib/outpost"];

/**
 * The name prefix of the agent whose data directory is `dataDir`: `outpost-` for the
 * production ones, `o` + 6 hex of the directory's path + `-` for any other, so a demo, a
 * test run and the production agent on one box never share an account or a group.
 * 8 characters leave room within the 32-character account name limit.
 */
export function derivedPrefix(dataDir: string): string {
  const dir = resolve(dataDir);
  if (DEFAULT_DATA_DIRS.includes(dir)) return "outpost-";
  return `o${createHash("sha256").update(dir).digest("hex").slice(0, 6)}-`;
}

/**
 * The agent's naming, as its journal recorded it at its first start (a data directory
 * moved later keeps its names), `parent` added to where its groups live.
 */
export function recordNaming(journal: Journal, dataDir: string, parent?: CgroupDirs): AgentNaming {
  const known = journal.naming;
  const prefix = known?.prefix ?? derivedPrefix(dataDir);
  const parents = [...(known?.cgroupParents ?? [])];
  if (parent && !parents.some((p) => JSON.stringify(p) === JSON.stringify(parent)))
    parents.push(parent);
  const naming = { prefix, cgroupParents: parents };
  journal.setNaming(naming);
  return naming;
}

export function partitionsGroupName(prefix: string): string {
  return `${prefix}partitions`;
}

export function buildsGroupName(prefix: string): string {
  return `${prefix}builds`;
}

/** `^<prefix><rest>$`, the prefix taken literally: to find this agent's accounts. */
export function prefixPattern(prefix: string, rest: string): RegExp {
  return new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&")}${rest}$`);
}
