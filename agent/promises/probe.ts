import { closeSync, existsSync, constants as fs } from "node:fs";
import { connect } from "node:net";
import { relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { atFdcwd, type Cgroup, oPath, openat2, spawn } from "../../native/index.js";

/** A rendered promise check, ready to run. */
export type Probe =
  | { kind: "tcp"; host: string; port: number }
  | { kind: "http"; url: string }
  | {
      kind: "file";
      path: string;
      /** Looked up below this directory only (the partition's): links may not lead out. */
      within?: string;
    }
  | {
      kind: "command";
      argv: readonly string[];
      cwd: string;
      env: Readonly<Record<string, string>>;
      user?: string;
      /** A group for the check alone, so its timeout kills every process it started. */
      cgroup?: Cgroup;
    }
  /** A check the agent itself makes (the real-time promise); a throw is a failure. */
  | { kind: "check"; run: () => ProbeOutcome | Promise<ProbeOutcome> };

/** The outcome of one check: ok, or why not. */
export interface ProbeOutcome {
  ok: boolean;
  message?: string;
}

function tcp(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (outcome: ProbeOutcome): void => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () =>
      done({ ok: false, message: `tcp ${host}:${port}: timed out` }),
    );
    socket.once("connect", () => done({ ok: true }));
    socket.once("error", (err: NodeJS.ErrnoException) =>
      done({ ok: false, message: `tcp ${host}:${port}: ${err.code ?? err.message}` }),
    );
  });
}

async function http(url: string, timeoutMs: number): Promise<ProbeOutcome> {
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
    });
    await response.body?.cancel();
    if (response.status < 400) return { ok: true };
    return { ok: false, message: `http ${url}: status ${response.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === "TimeoutError" ? "timed out" : (e.cause?.code ?? e.message);
    return { ok: false, message: `http ${url}: ${why}` };
  }
}

async function command(
  probe: Extract<Probe, { kind: "command" }>,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  const [file, ...args] = probe.argv as [string, ...string[]];
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn({
      command: file,
      args,
      cwd: probe.cwd,
      env: probe.env,
      ...(probe.user !== undefined ? { user: probe.user } : {}),
      ...(probe.cgroup ? { cgroup: probe.cgroup } : {}),
      newSession: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    return { ok: false, message: `command ${file}: ${(err as Error).message}` };
  }
  let output = "";
  const collect = (chunk: Buffer): void => {
    if (output.length < 4096) output += chunk.toString("utf8");
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (probe.cgroup) void probe.cgroup.kill();
    else {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }
  }, timeoutMs);
  const status = await child.exited;
  clearTimeout(timer);
  // The output may still be in flight; a background process holding the pipe open
  // must not hold the check, so wait a little, not for EOF.
  const drained = [child.stdout, child.stderr].map(
    (s) => new Promise<void>((r) => (s && !s.readableEnded ? s.once("close", () => r()) : r())),
  );
  await Promise.race([Promise.all(drained), sleep(200)]);
  child.stdout?.destroy();
  child.stderr?.destroy();
  // After a timeout, leftovers that left the session are still in the group.
  if (timedOut && probe.cgroup) await probe.cgroup.kill();
  if (timedOut) return { ok: false, message: `command ${file}: timed out after ${timeoutMs} ms` };
  const lines = output.trim().split("\n");
  // A passing check's last line is its message: how it passed (figures, versions) shows.
  if (status.code === 0)
    return lines[0] ? { ok: true, message: lines.at(-1) as string } : { ok: true };
  const tail = lines.slice(-3).join(" | ");
  const how = status.signal ? `killed by ${status.signal}` : `exit status ${status.code}`;
  return { ok: false, message: `command ${file}: ${how}${tail ? `: ${tail}` : ""}` };
}

/**
 * Whether `path` exists. Below a partition it is looked up as the partition could see
 * it, fd-relative with O_PATH: a link out of the partition counts as missing, so root's
 * lookup tells the partition nothing about the rest of the box, and nothing is opened.
 */
function fileExists(path: string, within: string | undefined): boolean {
  if (within === undefined) return existsSync(path);
  try {
    const root = openat2(atFdcwd(), within, oPath() | fs.O_DIRECTORY);
    try {
      closeSync(
        openat2(root, relative(within, path), oPath(), { resolve: ["beneath", "noMagiclinks"] }),
      );
      return true;
    } finally {
      closeSync(root);
    }
  } catch {
    return false;
  }
}

/** Runs one check, never throwing: every failure is an outcome with a message. */
export async function runProbe(probe: Probe, timeoutMs: number): Promise<ProbeOutcome> {
  switch (probe.kind) {
    case "tcp":
      return tcp(probe.host, probe.port, timeoutMs);
    case "http":
      return http(probe.url, timeoutMs);
    case "file":
      return fileExists(probe.path, probe.within)
        ? { ok: true }
        : { ok: false, message: `file ${probe.path}: missing` };
    case "command":
      return command(probe, timeoutMs);
    case "check":
      try {
        return await probe.run();
      } catch (err) {
        return { ok: false, message: (err as Error).message };
      }
  }
}
