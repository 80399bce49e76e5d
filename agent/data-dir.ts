import { chmodSync, mkdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { hasCode } from "../common/errors.js";
import { AgentDataDirError } from "./errors.js";

/**
 * The agent's data directory. Mode 0711: partition users must traverse it to reach their
 * own directory and the installed software, but may not list it.
 *
 * | path          | mode | what                                                 |
 * | ------------- | ---- | ---------------------------------------------------- |
 * | `node.key`    | 0600 | the node's CURVE secret key (Z85)                    |
 * | `software/`   | 0755 | installed release trees, root-owned, one per install |
 * | `releases/`   | 0700 | the agent's record of each complete install          |
 * | `builds/`     | 0711 | each build's work dir (its account's, 0700) and log  |
 * | `partitions/` | 0711 | one directory per partition, owned by its user, 0750 |
 * | `logs/`       | 0711 | one root-owned log directory per partition, 0750     |
 * | `api/`        | 0711 | `pN.sock`: partition N's local API, 0660 root:pN     |
 */
export interface AgentPaths {
  dir: string;
  keyFile: string;
  software: string;
  records: string;
  builds: string;
  partitions: string;
  logs: string;
  api: string;
}

export function agentPaths(dir: string): AgentPaths {
  return {
    dir,
    keyFile: join(dir, "node.key"),
    software: join(dir, "software"),
    records: join(dir, "releases"),
    builds: join(dir, "builds"),
    partitions: join(dir, "partitions"),
    logs: join(dir, "logs"),
    api: join(dir, "api"),
  };
}

/** Creates `dir` with `mode` if missing and sets the mode if it differs. */
export function ensureDir(dir: string, mode: number): void {
  try {
    mkdirSync(dir, { recursive: true, mode });
    if (!statSync(dir).isDirectory()) throw new AgentDataDirError(dir, "is not a directory");
    if ((statSync(dir).mode & 0o7777) !== mode) chmodSync(dir, mode);
  } catch (err) {
    if (hasCode(err, "E_AGENT_DATA_DIR")) throw err;
    throw new AgentDataDirError(
      dir,
      `cannot create (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  }
}

/** Opens (creating) the data directory and its subdirectories. */
export function openAgentDataDir(dir: string): AgentPaths {
  const paths = agentPaths(dir);
  ensureDir(paths.dir, 0o711);
  ensureDir(paths.software, 0o755);
  ensureDir(paths.records, 0o700);
  ensureDir(paths.builds, 0o711);
  ensureDir(paths.partitions, 0o711);
  ensureDir(paths.logs, 0o711);
  ensureDir(paths.api, 0o711);
  return paths;
}

/**
 * Partition users and the build user reach their directories through the data
 * directory's parents: each must let others traverse it (o+x). Checked at start so the
 * failure names the directory, instead of every spawn failing with EACCES on chdir.
 */
export function checkTraversable(dir: string): void {
  let current = resolve(dir);
  for (;;) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) {
      throw new AgentDataDirError(
        current,
        `partition users cannot traverse it (mode ${(mode & 0o7777).toString(8).padStart(4, "0")}); run chmod o+x on it or choose another --data`,
      );
    }
    const parent = dirname(current);
    if (parent === current) return;
    current = parent;
  }
}
