import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** What `outpost master start` logs in its `master.started` event. */
export interface StartedMaster {
  url: string;
  endpoint: string;
  publicKey: string;
}

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The built `outpost master start` as its own process on ephemeral ports, so a bench
 * measures it from outside (its RSS, its acks) as an operator's would run; resolves once
 * it logged `master.started`. `extra` are more `master start` flags.
 */
export async function startMasterProcess(
  data: string,
  extra: string[] = [],
): Promise<{ child: ChildProcess; started: StartedMaster }> {
  const child = spawn(
    process.execPath,
    [
      ...[join(here, "..", "..", "cli", "main.js"), "master", "start", "--data", data],
      ...["--listen", "tcp://127.0.0.1:*", "--http", "127.0.0.1:0", ...extra],
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const started = await new Promise<StartedMaster>((resolve, reject) => {
    let seen = "";
    const onData = (c: Buffer): void => {
      seen += c.toString("utf8");
      const line = seen.split("\n").find((l) => l.includes('"master.started"'));
      if (!line) return;
      // Keep draining stderr so the master never blocks on a full pipe.
      child.stderr?.off("data", onData);
      child.stderr?.resume();
      resolve(JSON.parse(line) as StartedMaster);
    };
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`master exited ${code}: ${seen}`)));
  });
  return { child, started };
}

/** SIGTERM, then waits for the exit (at once when it already exited). */
export async function stopMasterProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}
