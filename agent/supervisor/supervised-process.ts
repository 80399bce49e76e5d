import { type BackoffOptions, backoffDelay, type Logger } from "../../common/index.js";
import {
  adopt,
  type Cgroup,
  type ExitStatus,
  type Rlimit,
  type RlimitName,
  type SchedSettings,
  spawn,
  type WatchedProcess,
} from "../../native/index.js";
import { partitionSandbox, type Sandbox } from "../partitions/sandbox.js";
import type { RestartPolicy } from "../software/descriptor.js";
import { identityOf, isAlive, type ProcessIdentity } from "./process-identity.js";
import { shouldRestart } from "./restart-policy.js";

/** How to start one process of an instance; rendered and resolved already. */
export interface ProcessLaunch {
  name: string;
  command: string;
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  cwd: string;
  /** The partition's account; absent in laptop mode. */
  user?: string;
  /** The process's own group (limits, and the kill that takes its whole tree). */
  cgroup?: Cgroup;
  /** stdout and stderr, appended by the process itself so it survives agent restarts. */
  logFile: string;
  sched?: SchedSettings;
  cpus?: readonly number[];
  rlimits?: Partial<Record<RlimitName, Rlimit>>;
  /** no_new_privs and the seccomp filter (default: the partition default). */
  sandbox?: Sandbox;
}

export interface SupervisionOptions {
  restart: RestartPolicy;
  backoff: BackoffOptions;
  /** After SIGTERM, how long before the process's group is killed. */
  stopTimeoutMs: number;
  /** A run this long resets the failure count (and so the backoff). */
  stableMs: number;
  logger: Logger;
  /** Called on every state change; the caller records `identity` to re-adopt after a restart. */
  onChange?: (process: SupervisedProcess) => void;
}

export type ProcessState = "running" | "backoff" | "exited" | "stopped";

/** Failures within this window… */
export const CRASH_WINDOW_MS = 60_000;
/** …this many of them make a crash loop. */
export const CRASH_LIMIT = 5;

/** Why a process counts as failed now; see SupervisedProcess.failure. */
export interface ProcessFailure {
  process: string;
  /** The start's errno code (`ENOENT`…) or `E_AGENT_CRASH_LOOP`. */
  code: string;
  message: string;
  lastExit?: ExitStatus;
}

/**
 * One supervised process: started through the native spawn (partition user, cgroup, RT
 * settings), watched through its pidfd, restarted by policy with exponential backoff,
 * stopped gracefully. The process runs in its own session and does not die with the
 * agent: `detach()` leaves it running and `adopt()` (in the next agent) takes it back.
 */
export class SupervisedProcess {
  private child: WatchedProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private startedAt = 0;
  private failures = 0;
  private currentState: ProcessState = "exited";
  private current: ProcessIdentity | undefined;
  /** How the last run ended, or why the last start failed. */
  lastExit: ExitStatus | undefined;
  lastError: Error | undefined;
  /** Starts made after the first one. */
  restarts = 0;
  /** When recent runs ended badly or starts failed (pruned to CRASH_WINDOW_MS). */
  private readonly failureTimes: number[] = [];

  constructor(
    readonly launch: ProcessLaunch,
    private readonly options: SupervisionOptions,
  ) {}

  get state(): ProcessState {
    return this.currentState;
  }

  get identity(): ProcessIdentity | undefined {
    return this.current;
  }

  get name(): string {
    return this.launch.name;
  }

  /** Starts the process now (a start that fails is retried by the restart policy). */
  start(): void {
    this.stopping = false;
    this.run();
  }

  /**
   * Watches `identity` if that process still runs; returns false (and starts nothing)
   * when it does not, so the caller decides.
   */
  adopt(identity: ProcessIdentity): boolean {
    if (!isAlive(identity)) return false;
    let child: WatchedProcess;
    try {
      child = adopt(identity.pid);
    } catch {
      return false;
    }
    this.stopping = false;
    this.watch(child, identity);
    this.options.logger.info({ process: this.name, pid: identity.pid }, "process.adopted");
    return true;
  }

  /**
   * SIGTERM, then after `stopTimeoutMs` SIGKILL to everything in the process's group (or
   * session in laptop mode); also kills what the process left behind in its group.
   * Resolves once it has ended. No restart follows.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (child) {
      child.kill("SIGTERM");
      const timeout = new Promise<"timeout">((r) => {
        this.timer = setTimeout(() => r("timeout"), this.options.stopTimeoutMs);
      });
      if ((await Promise.race([child.exited, timeout])) === "timeout") {
        this.options.logger.warn({ process: this.name }, "process.stop_timeout");
        await this.killTree(child.pid);
        await child.exited;
      }
      clearTimeout(this.timer);
    }
    if (this.launch.cgroup) await this.launch.cgroup.kill();
    this.setState("stopped");
  }

  /**
   * Why this process counts as failed now: its last start failed (execve, user, cgroup,
   * rlimit), or it ended badly CRASH_LIMIT times within CRASH_WINDOW_MS. A process that
   * has then run for the whole window is no longer failed.
   */
  failure(now = Date.now()): ProcessFailure | undefined {
    while ((this.failureTimes[0] ?? now) < now - CRASH_WINDOW_MS) this.failureTimes.shift();
    const lastExit = this.lastExit ? { lastExit: this.lastExit } : {};
    if (this.lastError && this.currentState !== "running" && this.currentState !== "stopped") {
      const e = this.lastError as NodeJS.ErrnoException;
      return {
        process: this.name,
        code: typeof e.code === "string" ? e.code : "E_AGENT_START",
        message: `cannot start: ${e.message}`,
        ...lastExit,
      };
    }
    if (this.failureTimes.length >= CRASH_LIMIT)
      return {
        process: this.name,
        code: "E_AGENT_CRASH_LOOP",
        message: `ended ${this.failureTimes.length} times within ${CRASH_WINDOW_MS / 1000} s`,
        ...lastExit,
      };
    return undefined;
  }

  /** Stops supervising and leaves the process running (agent shutdown or upgrade). */
  detach(): void {
    this.stopping = true;
    clearTimeout(this.timer);
    this.child?.close();
    this.child = undefined;
  }

  private run(): void {
    let child: WatchedProcess;
    try {
      child = spawn({
        command: this.launch.command,
        args: this.launch.args,
        env: this.launch.env,
        cwd: this.launch.cwd,
        ...(this.launch.user !== undefined ? { user: this.launch.user } : {}),
        ...(this.launch.cgroup ? { cgroup: this.launch.cgroup } : {}),
        ...(this.launch.sched ? { sched: this.launch.sched } : {}),
        ...(this.launch.cpus ? { cpus: this.launch.cpus } : {}),
        ...(this.launch.rlimits ? { rlimits: this.launch.rlimits } : {}),
        ...(this.launch.sandbox ?? partitionSandbox()),
        newSession: true,
        umask: 0o027,
        stdio: [
          "ignore",
          { file: this.launch.logFile, append: true },
          { file: this.launch.logFile, append: true },
        ],
      });
    } catch (err) {
      this.lastError = err as Error;
      this.startedAt = 0;
      this.options.logger.warn({ process: this.name, err }, "process.start_failed");
      this.ended({ code: null, signal: null });
      return;
    }
    const identity = identityOf(child.pid) ?? { pid: child.pid, startTicks: -1 };
    this.lastError = undefined;
    this.watch(child, identity);
    this.options.logger.info({ process: this.name, pid: child.pid }, "process.started");
  }

  private watch(child: WatchedProcess, identity: ProcessIdentity): void {
    this.child = child;
    this.current = identity;
    this.startedAt = Date.now();
    this.setState("running");
    void child.exited.then((status) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.ended(status);
    });
  }

  private ended(status: ExitStatus): void {
    this.lastExit = status;
    this.current = undefined;
    if (this.stopping) return;
    const ranMs = this.startedAt > 0 ? Date.now() - this.startedAt : 0;
    this.failures = ranMs >= this.options.stableMs ? 1 : this.failures + 1;
    if (status.code !== 0) this.failureTimes.push(Date.now());
    this.options.logger.warn({ process: this.name, ...status, ranMs }, "process.exited");
    // A TypeError is a launch the native layer refuses outright: retrying cannot help.
    if (!shouldRestart(this.options.restart, status) || this.lastError instanceof TypeError) {
      this.setState("exited");
      return;
    }
    const delay = backoffDelay(this.options.backoff, this.failures);
    this.setState("backoff");
    this.timer = setTimeout(() => {
      this.restarts++;
      this.run();
    }, delay);
  }

  private async killTree(pid: number): Promise<void> {
    if (this.launch.cgroup) {
      await this.launch.cgroup.kill();
      return;
    }
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      this.child?.kill("SIGKILL");
    }
  }

  private setState(state: ProcessState): void {
    this.currentState = state;
    this.options.onChange?.(this);
  }
}
