import { closeSync, existsSync, constants as fs } from "node:fs";
import { connect, type Socket } from "node:net";
import { relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { atFdcwd, type Cgroup, oPath, openat2, spawn } from "../../native/index.js";
import { partitionSandbox, type Sandbox } from "../partitions/sandbox.js";
import { acceptedSocketUid } from "./socket-owner.js";

/** A rendered promise check, ready to run. */
export type Probe =
  | { kind: "tcp"; host: string; port: number; owner?: ListenerOwner }
  | { kind: "http"; url: string; owner?: ListenerOwner }
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
      /** RLIMIT_NOFILE, soft and hard (default: the agent's own). */
      openFiles?: number;
      /** no_new_privs and the seccomp filter (default: the partition default). */
      sandbox?: Sandbox;
    }
  /** A check the agent itself makes (the real-time promise); a throw is a failure. */
  | { kind: "check"; run: () => ProbeOutcome | Promise<ProbeOutcome> };

/**
 * A partition's address and account: a check that reaches `address` passes only when
 * the socket that answers is the account's, so an impostor's listener never does.
 */
export interface ListenerOwner {
  address: string;
  uid: number;
}

/** The outcome of one check: ok, or why not. */
export interface ProbeOutcome {
  ok: boolean;
  message?: string;
}

function ownerProblem(
  socket: Socket,
  host: string,
  port: number,
  owner: ListenerOwner,
): string | undefined {
  const client = { address: socket.localAddress ?? "", port: socket.localPort ?? 0 };
  const uid = acceptedSocketUid({ address: host, port }, client);
  if (uid === undefined) return `tcp ${host}:${port}: the listener's owner is not on this box`;
  if (uid !== owner.uid)
    return `tcp ${host}:${port}: answered by uid ${uid}, not this partition's (uid ${owner.uid})`;
  return undefined;
}

function tcp(
  host: string,
  port: number,
  timeoutMs: number,
  owner: ListenerOwner | undefined,
): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (outcome: ProbeOutcome): void => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () =>
      done({ ok: false, message: `tcp ${host}:${port}: timed out` }),
    );
    socket.once("connect", () => {
      const problem =
        owner && host === owner.address ? ownerProblem(socket, host, port, owner) : undefined;
      done(problem ? { ok: false, message: problem } : { ok: true });
    });
    socket.once("error", (err: NodeJS.ErrnoException) =>
      done({ ok: false, message: `tcp ${host}:${port}: ${err.code ?? err.message}` }),
    );
  });
}

async function http(
  url: string,
  timeoutMs: number,
  owner: ListenerOwner | undefined,
): Promise<ProbeOutcome> {
  const target = new URL(url);
  if (owner && target.hostname === owner.address) {
    const defaultPort = target.protocol === "https:" ? 443 : 80;
    const port = target.port === "" ? defaultPort : Number(target.port);
    const reached = await tcp(owner.address, port, timeoutMs, owner);
    if (!reached.ok) return { ok: false, message: `http ${url}: ${reached.message}` };
  }
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
      ...(probe.openFiles !== undefined
        ? { rlimits: { nofile: { soft: probe.openFiles, hard: probe.openFiles } } }
        : {}),
      ...(probe.sandbox ?? partitionSandbox()),
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
      return tcp(probe.host, probe.port, timeoutMs, probe.owner);
    case "http":
      return http(probe.url, timeoutMs, probe.owner);
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
