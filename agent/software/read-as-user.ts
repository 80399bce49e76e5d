import type { Cgroup } from "../../native/index.js";
import { spawn } from "../../native/index.js";
import { FetchError } from "../errors.js";
import { partitionSandbox } from "../partitions/sandbox.js";

export interface ReadAsUserOptions {
  user: string;
  /** The source as the descriptor names it: what a `FetchError` names. */
  url: string;
  maxBytes: number;
  timeoutMs: number;
  /** Where the reader runs (the build group: a timeout or agent restart kills it). */
  cgroup?: Cgroup;
}

/**
 * Reads a whole file as `user` (cat in a process of its own): the kernel's permission
 * checks decide what may be read, never root's. Bounded in size and time, so a FIFO or
 * a device swapped in cannot stall the agent. A failure is a `FetchError` whose reason is
 * for the user, never the content.
 */
export async function readFileAsUser(path: string, options: ReadAsUserOptions): Promise<Buffer> {
  const child = spawn({
    command: "/bin/cat",
    args: ["--", path],
    env: { PATH: "/usr/bin:/bin", LANG: "C" },
    cwd: "/",
    user: options.user,
    ...(options.cgroup ? { cgroup: options.cgroup } : {}),
    ...partitionSandbox(),
    parentDeathSignal: "SIGKILL",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const chunks: Buffer[] = [];
  let size = 0;
  let failure: string | undefined;
  let stderr = "";
  const kill = (reason: string) => {
    failure ??= reason;
    child.kill("SIGKILL");
  };
  child.stdout?.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > options.maxBytes) kill(`larger than ${options.maxBytes} bytes`);
    else chunks.push(chunk);
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString("utf8");
  });
  const drained = Promise.all(
    [child.stdout, child.stderr].map(
      (s) => new Promise<void>((r) => (s ? s.once("close", r) : r())),
    ),
  );
  const timer = setTimeout(() => kill(`no end after ${options.timeoutMs} ms`), options.timeoutMs);
  try {
    const status = await child.exited;
    await drained;
    if (failure) throw new FetchError(options.url, failure);
    if (status.code !== 0) {
      // cat says "cat: PATH: REASON"; only the reason is kept.
      const reason = /: ([^:\n]+)\n?$/.exec(stderr.trim())?.[1] ?? `exit status ${status.code}`;
      throw new FetchError(options.url, `${reason} (read as '${options.user}')`);
    }
    return Buffer.concat(chunks);
  } finally {
    clearTimeout(timer);
  }
}
