import { execFileSync } from "node:child_process";
import { chownSync } from "node:fs";
import { prefixPattern } from "../naming.js";
import { ensureSystemUser, removeSystemUser } from "../partitions/system-user.js";

/** The account one install's fetch and build run as, and nothing else does. */
export interface BuildAccount {
  name: string;
  uid: number;
  gid: number;
  /** Hands a directory the agent made to the account. */
  own(path: string): void;
  /** Deletes the account once its processes are gone (they may take a moment to die). */
  remove(): Promise<void>;
}

/** Build account names: `<prefix>` then 12 hex digits of the install id. */
export function buildAccountPattern(prefix: string): RegExp {
  return prefixPattern(prefix, "[0-9a-f]{12}");
}

/**
 * Makes the account `name` afresh: one a killed agent left behind is deleted first, so
 * the build starts with an account that owns nothing and runs nothing.
 */
export function openBuildAccount(name: string): BuildAccount {
  removeSystemUser(name);
  const user = ensureSystemUser(name, "/nonexistent");
  return {
    name,
    uid: user.uid,
    gid: user.gid,
    own: (path) => chownSync(path, user.uid, user.gid),
    remove: async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          removeSystemUser(name);
          return;
        } catch (err) {
          if (attempt >= 20) throw err;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
  };
}

/** Build accounts with `prefix` that exist now (an agent killed mid-build leaves one). */
export function listBuildAccounts(prefix: string): string[] {
  const pattern = buildAccountPattern(prefix);
  const passwd = execFileSync("getent", ["passwd"], { encoding: "utf8" });
  return passwd
    .split("\n")
    .map((line) => line.split(":")[0] ?? "")
    .filter((name) => pattern.test(name));
}
