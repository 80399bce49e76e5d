import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

export interface Peer {
  child: ChildProcess;
  /** The first JSON line the peer printed (where it listens). */
  hello: Record<string, unknown>;
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Starts a peer process and waits for its first stdout line, JSON naming where it
 * listens. `stop` kills it and waits for the exit; tests call it in `after` hooks.
 */
export async function startPeer(
  command: string,
  args: readonly string[],
  options: { timeoutMs?: number; matchStderr?: RegExp; env?: NodeJS.ProcessEnv } = {},
): Promise<Peer> {
  const child = spawn(command, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
  });
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${command} did not start in time: ${err.slice(-2000)}`)),
      options.timeoutMs ?? 30_000,
    );
    const done = (value: Record<string, unknown>) => {
      clearTimeout(timer);
      resolve(value);
    };
    if (options.matchStderr) {
      const re = options.matchStderr;
      child.stderr?.on("data", () => {
        const m = re.exec(err);
        if (m) done({ match: m.slice(1) });
      });
    } else {
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      lines.once("line", (line) => {
        try {
          done(JSON.parse(line) as Record<string, unknown>);
        } catch {
          reject(new Error(`${command} printed '${line}'`));
        }
      });
    }
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited ${code}: ${err.slice(-2000)}`));
    });
  }).catch(async (e: unknown) => {
    await stop();
    throw e;
  });
  return { child, hello, stderr: () => err, stop };
}
