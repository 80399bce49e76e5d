import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hasCode } from "../common/errors.js";
import { generateKeyPair, isKeyText, type KeyPair, publicKeyOf } from "../protocol/index.js";
import { DataDirError } from "./errors.js";

/**
 * The master's data directory (mode 0700):
 *
 * | file          | mode | what                                             |
 * | ------------- | ---- | ------------------------------------------------ |
 * | `master.key`  | 0600 | the master's CURVE secret key (Z85)              |
 * | `admin.token` | 0600 | bearer token for the HTTP API                    |
 * | `master.db`   | —    | the SQLite store (with its `-wal` and `-shm`)    |
 *
 * Secrets are created on first use and refused when group or others can read them.
 */
export interface MasterDataDir {
  dir: string;
  keyPair: KeyPair;
  adminToken: string;
  databasePath: string;
}

export const KEY_FILE = "master.key";
export const TOKEN_FILE = "admin.token";
export const DATABASE_FILE = "master.db";

export function openDataDir(dir: string): MasterDataDir {
  ensureDir(dir);
  const secretKey = readOrCreateSecret(join(dir, KEY_FILE), () => generateKeyPair().secretKey);
  if (!isKeyText(secretKey)) {
    throw new DataDirError(join(dir, KEY_FILE), "does not hold a 40-character Z85 secret key");
  }
  const adminToken = readOrCreateSecret(join(dir, TOKEN_FILE), () =>
    randomBytes(32).toString("base64url"),
  );
  if (adminToken.length < 16) {
    throw new DataDirError(join(dir, TOKEN_FILE), "admin token is shorter than 16 characters");
  }
  return {
    dir,
    keyPair: { publicKey: publicKeyOf(secretKey), secretKey },
    adminToken,
    databasePath: join(dir, DATABASE_FILE),
  };
}

/** The master's public key, creating the key pair if this data directory has none yet. */
export function masterPublicKey(dir: string): string {
  return openDataDir(dir).keyPair.publicKey;
}

function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!statSync(dir).isDirectory()) throw new DataDirError(dir, "is not a directory");
  } catch (err) {
    if (hasCode(err, "E_MASTER_DATA_DIR")) throw err;
    throw new DataDirError(dir, `cannot create (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
}

function readOrCreateSecret(path: string, make: () => string): string {
  try {
    writeFileSync(path, `${make()}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
      throw new DataDirError(path, `cannot create (${(err as NodeJS.ErrnoException).code ?? err})`);
    }
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new DataDirError(
      path,
      `is readable by group or others (mode ${mode.toString(8).padStart(4, "0")}); run chmod 600 on it`,
    );
  }
  return readFileSync(path, "utf8").trim();
}
