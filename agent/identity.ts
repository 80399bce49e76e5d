import { readFileSync, statSync, writeFileSync } from "node:fs";
import { generateKeyPair, isKeyText, type KeyPair, publicKeyOf } from "../protocol/index.js";
import { agentPaths, ensureDir } from "./data-dir.js";
import { AgentDataDirError } from "./errors.js";

/**
 * The node's CURVE key pair, created on first use in `<data>/node.key` (mode 0600, written
 * with O_EXCL so two agents starting at once cannot end up with different keys). Only the
 * public half ever leaves the node: the operator registers it with `outpost node add`.
 * A key file readable by group or others is refused, not repaired.
 */
export function loadOrCreateIdentity(dataDir: string): KeyPair {
  const { dir, keyFile } = agentPaths(dataDir);
  ensureDir(dir, 0o711);
  try {
    writeFileSync(keyFile, `${generateKeyPair().secretKey}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
      throw new AgentDataDirError(
        keyFile,
        `cannot create (${(err as NodeJS.ErrnoException).code ?? err})`,
      );
    }
  }
  const mode = statSync(keyFile).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new AgentDataDirError(
      keyFile,
      `is readable by group or others (mode ${mode.toString(8).padStart(4, "0")}); run chmod 600 on it`,
    );
  }
  const secretKey = readFileSync(keyFile, "utf8").trim();
  if (!isKeyText(secretKey)) {
    throw new AgentDataDirError(keyFile, "does not hold a 40-character Z85 secret key");
  }
  return { publicKey: publicKeyOf(secretKey), secretKey };
}
