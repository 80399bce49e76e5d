import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/**
 * Starts the local sink as its own process (from the TypeScript sources under tsx, or
 * from dist/ when this module was compiled) and resolves once it listens.
 */
export interface LocalSink {
  port: number;
  dir: string;
  process: ChildProcess;
  /** Stops it cleanly (SIGTERM) and waits for the exit. */
  stop(): Promise<void>;
  /** kill -9. */
  kill(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
const compiled = import.meta.url.endsWith(".js");

export async function startLocalSink(dir: string, port = 0): Promise<LocalSink> {
  const args = compiled
    ? [join(here, "server.js"), dir, String(port)]
    : ["--import", "tsx", join(here, "server.ts"), dir, String(port)];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.once("line", (l) => {
      rl.close();
      resolve(l);
    });
    child.once("exit", (code) =>
      reject(new Error(`local sink exited with ${code} before listening`)),
    );
  });
  const { port: listening } = JSON.parse(line) as { port: number };
  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    port: listening,
    dir,
    process: child,
    stop: () => stopWith("SIGTERM"),
    kill: () => stopWith("SIGKILL"),
  };
}
