import { readFileSync } from "node:fs";
import { NativeError } from "./errors.js";

/** A user as spawn applies it: ids only, resolved before fork. */
export interface ResolvedUser {
  name?: string;
  uid: number;
  gid: number;
  /** Supplementary groups (includes the primary group). */
  groups: number[];
}

/** A user name that /etc/passwd does not list. */
export class UnknownUserError extends NativeError {
  readonly code = "E_UNKNOWN_USER";
  constructor(readonly user: string) {
    super(`unknown user '${user}' (not in /etc/passwd)`);
  }
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

/** Pure: /etc/passwd lines `name:pw:uid:gid:gecos:home:shell`. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || line.startsWith("#")) continue;
    out.push({ name: f[0] as string, uid: Number(f[2]), gid: Number(f[3]) });
  }
  return out;
}

/** Pure: the gids of /etc/group entries (`name:pw:gid:members`) listing `user` as a member. */
export function groupsOf(groupText: string, user: string): number[] {
  const out: number[] = [];
  for (const line of groupText.split("\n")) {
    const f = line.split(":");
    if (f.length < 4) continue;
    if ((f[3] as string).split(",").includes(user)) out.push(Number(f[2]));
  }
  return out;
}

/** Pure: resolves a name or numeric uid against passwd and group file contents. */
export function resolveUserIn(user: string | number, passwd: string, group: string): ResolvedUser {
  const entries = parsePasswd(passwd);
  const numeric = typeof user === "number" ? user : /^\d+$/.test(user) ? Number(user) : undefined;
  const entry =
    numeric !== undefined
      ? entries.find((e) => e.uid === numeric)
      : entries.find((e) => e.name === user);
  if (!entry) {
    if (numeric === undefined) throw new UnknownUserError(String(user));
    if (!Number.isSafeInteger(numeric) || numeric > 0xfffffffe)
      throw new RangeError(`uid ${numeric} is out of range`);
    // A uid with no account: its own number as group, no supplementary groups.
    return { uid: numeric, gid: numeric, groups: [] };
  }
  const groups = [...new Set([entry.gid, ...groupsOf(group, entry.name)])].sort((a, b) => a - b);
  return { name: entry.name, uid: entry.uid, gid: entry.gid, groups };
}

/**
 * Looks a user up in /etc/passwd and /etc/group (the files, not NSS: gateways keep their
 * accounts there, and a lookup through NSS modules must not happen between fork and exec).
 */
export function resolveUser(user: string | number): ResolvedUser {
  return resolveUserIn(
    user,
    readFileSync("/etc/passwd", "utf8"),
    readFileSync("/etc/group", "utf8"),
  );
}
