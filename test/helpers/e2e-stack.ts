import { type ChildProcess, spawn as spawnNode } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { StatusSnapshot } from "../../master/index.js";
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

/** A running `outpost demo` process and its status page. */
export interface DemoProcess {
  process: WatchedProcess;
  url: string;
  token: string;
}

/**
 * `outpost demo --dir STATE --http 127.0.0.1:0` from `root`'s built CLI, as the README
 * runs it, in `cgroup`; resolved once it printed its status page URL. Its stdout goes to
 * a file of its own in `logDir`, its log to `logDir/demo.log`.
 */
export async function startDemoProcess(options: {
  root: string;
  state: string;
  cgroup: Cgroup;
  logDir: string;
  extra?: readonly string[];
}): Promise<DemoProcess> {
  const out = join(options.logDir, `demo-${Date.now()}.out`);
  const child = spawn({
    command: process.execPath,
    args: [
      join(options.root, "dist", "cli", "main.js"),
      ...["demo", "--dir", options.state, "--http", "127.0.0.1:0", ...(options.extra ?? [])],
    ],
    cwd: options.root,
    cgroup: options.cgroup,
    stdio: ["ignore", { file: out }, { file: join(options.logDir, "demo.log"), append: true }],
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = /Status page: (http:\/\/[^#\s]+)#token=(\S+)/.exec(readFileSync(out, "utf8"));
    if (m) return { process: child, url: m[1] as string, token: m[2] as string };
    if (Date.now() > deadline) throw new Error(`no status page URL from the demo: ${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The demo master's `/v1/status` document. */
export async function demoStatus(at: { url: string; token: string }): Promise<StatusSnapshot> {
  const res = await fetch(`${at.url}v1/status`, {
    headers: { authorization: `Bearer ${at.token}` },
  });
  if (res.status !== 200) throw new Error(`GET ${at.url}v1/status: ${res.status}`);
  return (await res.json()) as StatusSnapshot;
}
