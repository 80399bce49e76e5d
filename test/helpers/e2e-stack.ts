import { type ChildProcess, spawn as spawnNode } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Cgroup,
  resolveUser,
  spawn,
  UnknownUserError,
  type WatchedProcess,
} from "../../native/index.js";
import { repoRoot } from "./run-outpost.js";

/** Whether a Unix account exists (e2e tests refuse to run over agent accounts they would delete). */
export function accountExists(name: string): boolean {
  try {
    resolveUser(name);
    return true;
  } catch (err) {
    if (err instanceof UnknownUserError) return false;
    throw err;
  }
}

/** What `outpost master start` logs once listening. */
export interface StartedMaster {
  url: string;
  endpoint: string;
  publicKey: string;
}

/**
 * `outpost master start` from the sources on loopback (any node port, any HTTP port),
 * resolved once it logged `master.started`; `env` carries its URL and admin token for
 * the CLI.
 */
export async function startMaster(
  dataDir: string,
): Promise<{ master: ChildProcess; started: StartedMaster; env: NodeJS.ProcessEnv }> {
  const master = spawnNode(
    process.execPath,
    [
      ...["--import", "tsx", join(repoRoot, "cli", "main.ts"), "master", "start"],
      ...["--data", dataDir, "--listen", "tcp://127.0.0.1:*", "--http", "127.0.0.1:0"],
    ],
    { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] },
  );
  const started = await new Promise<StartedMaster>((resolve, reject) => {
    let seen = "";
    master.stderr?.on("data", (chunk: Buffer) => {
      seen += chunk.toString("utf8");
      const line = seen.split("\n").find((l) => l.includes('"master.started"'));
      if (line) resolve(JSON.parse(line) as StartedMaster);
    });
    master.once("exit", (code) => reject(new Error(`master exited ${code}: ${seen}`)));
  });
  const env = {
    OUTPOST_MASTER: started.url,
    OUTPOST_TOKEN: readFileSync(join(dataDir, "admin.token"), "utf8").trim(),
  };
  return { master, started, env };
}

/** SIGTERM to a master still running, resolved once it exited. */
export async function stopMaster(master: ChildProcess | undefined): Promise<void> {
  if (!master || master.exitCode !== null) return;
  const exited = new Promise((r) => master.once("exit", r));
  master.kill("SIGTERM");
  await exited;
}

/**
 * `outpost agent start` as its own process in `cgroup` (the agent's own group), node
 * `n1` with 3 partitions syncing every 0.2 s, logging to `log`.
 */
export function startAgentProcess(
  started: StartedMaster,
  dataDir: string,
  cgroup: Cgroup,
  log: string,
): WatchedProcess {
  return spawn({
    command: process.execPath,
    args: [
      ...["--import", "tsx", join(repoRoot, "cli", "main.ts"), "agent", "start"],
      ...["--data", dataDir, "--master", started.endpoint, "--master-key", started.publicKey],
      ...["--name", "n1", "--partitions", "3", "--sync-interval", "0.2"],
    ],
    cwd: repoRoot,
    cgroup,
    stdio: ["ignore", { file: log, append: true }, { file: log, append: true }],
  });
}
