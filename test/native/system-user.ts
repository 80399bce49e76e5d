import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";

/** A real system account made for one test file; `remove()` deletes it (call it in `after`). */
export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
  remove(): void;
}

export function createSystemUser(prefix: string): SystemUser {
  const name = `${prefix}${randomBytes(3).toString("hex")}`;
  execFileSync("useradd", ["--system", "--no-create-home", "--user-group", name]);
  const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }).trim());
  return { name, uid, gid, remove: () => execFileSync("userdel", [name]) };
}
