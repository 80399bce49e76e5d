import { execFileSync } from "node:child_process";
import { hasCode } from "../../common/errors.js";
import { type ResolvedUser, resolveUser } from "../../native/index.js";

function lookup(name: string): ResolvedUser | undefined {
  try {
    return resolveUser(name);
  } catch (err) {
    if (hasCode(err, "E_UNKNOWN_USER")) return undefined;
    throw err;
  }
}

function groupExists(name: string): boolean {
  try {
    execFileSync("getent", ["group", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * A system account with its own group, no login shell and no home created: what a
 * partition or the build runs as. An existing account of that name is reused as it is,
 * so creating is idempotent.
 */
export function ensureSystemUser(name: string, home: string): ResolvedUser {
  const existing = lookup(name);
  if (existing) return existing;
  execFileSync(
    "useradd",
    [
      "--system",
      "--user-group",
      "--no-create-home",
      "--home-dir",
      home,
      "--shell",
      "/usr/sbin/nologin",
      name,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  return resolveUser(name);
}

/** Deletes the account and its group; an account already gone is not an error. */
export function removeSystemUser(name: string): void {
  if (lookup(name)) execFileSync("userdel", [name], { stdio: ["ignore", "ignore", "pipe"] });
  // userdel removes the user's group only when USERGROUPS_ENAB says so.
  if (groupExists(name)) execFileSync("groupdel", [name], { stdio: ["ignore", "ignore", "pipe"] });
}
