import { Socket } from "node:net";
import { constants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { type NativeExitWatch, nativeAddon } from "./addon.js";

/** How a process ended: exit code, or the signal that killed it; both null for an adopted process. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

export function signalNumber(signal: NodeJS.Signals | number): number {
  if (typeof signal === "number") {
    if (!Number.isInteger(signal) || signal < 0 || signal > 64)
      throw new RangeError(`signal ${signal} is out of range`);
    return signal;
  }
  const n = (constants.signals as Record<string, number>)[signal];
  if (n === undefined) throw new TypeError(`unknown signal '${String(signal)}'`);
  return n;
}

export interface WatchedProcessOptions {
  /** Whether the process is our child (its status is reaped and reported). */
  reap: boolean;
  /** Let Node exit while the process still runs. */
  unref?: boolean;
  stdin?: number;
  stdout?: number;
  stderr?: number;
}

/**
 * A process watched through its pidfd: a spawned child, or an adopted process (one
 * started by an earlier run of the agent). `exited` resolves once, when it ends.
 */
export class WatchedProcess {
  readonly exited: Promise<ExitStatus>;
  readonly stdin?: Writable;
  readonly stdout?: Readable;
  readonly stderr?: Readable;
  private watch: NativeExitWatch | undefined;
  private status: ExitStatus | undefined;

  /** Takes ownership of `pidfd` (-1: open one for `pid`). */
  constructor(
    readonly pid: number,
    pidfd: number,
    options: WatchedProcessOptions,
  ) {
    let resolve!: (s: ExitStatus) => void;
    this.exited = new Promise<ExitStatus>((r) => {
      resolve = r;
    });
    const { ExitWatch } = nativeAddon();
    this.watch = new ExitWatch(pid, pidfd, options.reap, (raw) => {
      this.watch = undefined;
      this.status = {
        code: raw.code,
        signal: raw.signal === null ? null : (SIGNAL_NAMES.get(raw.signal) ?? null),
      };
      resolve(this.status);
    });
    if (options.unref) this.watch.unref();
    if (options.stdin !== undefined)
      this.stdin = new Socket({ fd: options.stdin, readable: false, writable: true });
    if (options.stdout !== undefined)
      this.stdout = new Socket({ fd: options.stdout, readable: true, writable: false });
    if (options.stderr !== undefined)
      this.stderr = new Socket({ fd: options.stderr, readable: true, writable: false });
  }

  /** The exit status once known. */
  get exitStatus(): ExitStatus | undefined {
    return this.status;
  }

  /**
   * Sends a signal through the pidfd, which cannot hit another process that reused the
   * pid. Returns false once the process has ended.
   */
  kill(signal: NodeJS.Signals | number = "SIGTERM"): boolean {
    const n = signalNumber(signal);
    if (!this.watch) return false;
    try {
      this.watch.kill(n);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
      throw err;
    }
  }

  ref(): void {
    this.watch?.ref();
  }

  unref(): void {
    this.watch?.unref();
  }

  /** Stops watching (the process keeps running; `exited` stays pending). */
  close(): void {
    this.watch?.close();
    this.watch = undefined;
  }
}

/**
 * Watches a process that is not our child (after an agent restart): `exited` resolves
 * with `{ code: null, signal: null }` when it ends — its status belongs to its parent.
 * A pid that no longer exists throws the pidfd_open error (code `ESRCH`).
 */
export function adopt(pid: number, options: { unref?: boolean } = {}): WatchedProcess {
  if (!Number.isInteger(pid) || pid <= 0)
    throw new RangeError(`pid must be a positive integer (got ${pid})`);
  return new WatchedProcess(pid, -1, { reap: false, unref: options.unref });
}
