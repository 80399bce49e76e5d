import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../helpers/run-outpost.js";

/** What `outpost master start` logs in its `master.started` event. */
export interface StartedMaster {
  url: string;
  endpoint: string;
  publicKey: string;
}

/**
 * `outpost master start` from the sources as a real child process (on ephemeral ports
 * unless told; on SQLite in `data` unless given a `--store` URL and the environment that
 * holds its password; `extra` flags after those); `started` resolves with its `master.started` event, rejects if it exits
 * first.
 */
export function startMasterProcess(
  data: string,
  at: { listen: string; http: string } = { listen: "tcp://127.0.0.1:*", http: "127.0.0.1:0" },
  store?: { url: string; env: NodeJS.ProcessEnv },
  /** More `master start` flags (`--nats …`). */
  extra: string[] = [],
): {
  child: ChildProcess;
  started: Promise<StartedMaster>;
} {
  const child = spawn(
    process.execPath,
    [
      ...["--import", "tsx", join(repoRoot, "cli", "main.ts")],
      ...["master", "start", "--data", data],
      ...["--listen", at.listen, "--http", at.http],
      ...(store ? ["--store", store.url] : []),
      ...extra,
    ],
    {
      cwd: repoRoot,
      stdio: ["ignore", "ignore", "pipe"],
      env: store ? { ...process.env, ...store.env } : process.env,
    },
  );
  const started = new Promise<StartedMaster>((resolve, reject) => {
    let seen = "";
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString("utf8");
      const line = seen.split("\n").find((l) => l.includes('"master.started"'));
      if (!line) return;
      // Keep draining stderr so the master never blocks on a full pipe.
      child.stderr?.off("data", onData);
      child.stderr?.resume();
      resolve(JSON.parse(line) as StartedMaster);
    };
    child.stderr?.on("data", onData);
    child.once("exit", (code, signal) =>
      reject(new Error(`master exited ${code ?? signal}: ${seen}`)),
    );
  });
  return { child, started };
}

/** Ends the child with `signal` and resolves with its exit code (null when killed). */
export async function stopMasterProcess(
  child: ChildProcess,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  child.kill(signal);
  return exited;
}
