import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { Cgroup, type CgroupDirs, readCgroupLayout } from "../native/index.js";
import { KnobJournal } from "../realtime/index.js";
import { Journal } from "./converge/journal.js";
import { buildsGroupName, derivedPrefix, partitionsGroupName, prefixPattern } from "./naming.js";
import { childOf, existsIn, removeCgroupTree } from "./partitions/cgroup-child.js";
import { removeSystemUser } from "./partitions/system-user.js";

/** What `uninstallAgent` took away. */
export interface Uninstalled {
  prefix: string;
  groups: string[];
  accounts: string[];
  /** Machine settings put back from the knob journal that could not be. */
  knobFailures: string[];
  dataDir: string;
}

/** Accounts this agent made: partitions `<prefix>pN`, builds `<prefix>b<12 hex>`. */
export function agentAccounts(prefix: string): string[] {
  const pattern = prefixPattern(prefix, "(p\\d{1,3}|b[0-9a-f]{12})");
  return execFileSync("getent", ["passwd"], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.split(":")[0] ?? "")
    .filter((name) => pattern.test(name));
}

/**
 * Removes one agent's traces from the box, as named in its journal: its groups (what
 * runs in them is killed) below every parent it used, the machine settings it held
 * for real-time instances, its partition and build accounts, and its data directory.
 * The agent must be stopped first.
 */
export async function uninstallAgent(dataDir: string): Promise<Uninstalled> {
  const dir = resolve(dataDir);
  const journalPath = join(dir, "journal.json");
  const naming = existsSync(journalPath) ? Journal.open(journalPath).naming : undefined;
  const prefix = naming?.prefix ?? derivedPrefix(dir);
  const layout = readCgroupLayout();
  const parents: CgroupDirs[] = naming?.cgroupParents ?? [];
  const groups: string[] = [];
  for (const parentDirs of parents) {
    const parent = new Cgroup(layout, parentDirs);
    for (const name of [partitionsGroupName(prefix), buildsGroupName(prefix)]) {
      const group = childOf(parent, name);
      if (!existsIn(group)) continue;
      await removeCgroupTree(group);
      groups.push(join(parent.path, name));
    }
  }
  const knobs = join(dir, "realtime", "knobs.json");
  const knobFailures = existsSync(knobs)
    ? new KnobJournal(knobs).recover().map((f) => JSON.stringify(f))
    : [];
  const accounts = agentAccounts(prefix);
  for (const account of accounts) removeSystemUser(account);
  rmSync(dir, { recursive: true, force: true });
  return { prefix, groups, accounts, knobFailures, dataDir: dir };
}
