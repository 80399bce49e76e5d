import { type FSWatcher, statSync, watch } from "node:fs";
import type { Logger } from "../../common/index.js";
import { type LogRotation, type RotationOutcome, rotateLog } from "./log-rotation.js";

export interface LogWatcherOptions {
  /** The logs to watch, asked on every check (processes come and go). */
  files: () => readonly string[];
  rotation: LogRotation;
  logger: Logger;
  /** How often each log's size is looked at (default 1 s). */
  intervalMs?: number;
  /** How often a log rotated at its last check is looked at again (default 100 ms). */
  hotIntervalMs?: number;
}

interface FileState {
  /** A rotation of it is under way. */
  busy: boolean;
  /** It was rotated at its last check: it is checked every hotIntervalMs. */
  hot: boolean;
  /** When its head was last kept in `.1`; a flood in between is dropped, not copied. */
  lastKeptAt: number;
  /** Bytes dropped since the last `log.flood` event. */
  dropped: number;
  lastFloodReportAt: number;
  refusedReported: boolean;
  /** A one-shot inotify watch: the next write to the log triggers a look at once. */
  watch?: FSWatcher;
}

/**
 * Rotates logs by size as soon as they cross it, independent of the converge pass.
 * Two triggers: a one-shot inotify watch per log (the first write after it is armed
 * makes a look; re-armed `hotIntervalMs` after that look, so a log costs at most one
 * stat per `hotIntervalMs` however often it is written), and a poll of every log each
 * `intervalMs`, which also covers a log whose watch could not be set (no inotify
 * watches left, no file yet). A log found over its size is rotated (see rotateLog)
 * and polled every `hotIntervalMs` while it keeps crossing it.
 * Within `intervalMs` of the last copy to `.1`, a hot log's head is dropped rather
 * than copied: the agent copies at most `2 × maxBytes` per log per interval whatever a
 * process writes, and what was dropped is logged (`log.flood`, at most once per
 * interval per log). A writer slower than `maxBytes` per interval loses nothing.
 */
export class LogWatcher {
  private readonly states = new Map<string, FileState>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly intervalMs: number;
  private readonly hotIntervalMs: number;
  /** When every log is next due, hot or not. */
  private nextFullAt = 0;

  constructor(private readonly options: LogWatcherOptions) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.hotIntervalMs = options.hotIntervalMs ?? 100;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // A look at once: it arms the watches.
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const state of this.states.values()) this.disarm(state);
  }

  /** One look at every log that is due; resolves once its rotations are done. */
  async check(now = Date.now()): Promise<void> {
    const files = this.options.files();
    for (const [name, state] of this.states)
      if (!files.includes(name)) {
        this.disarm(state);
        this.states.delete(name);
      }
    for (const file of files) this.arm(file);
    const due = files.filter((file) => {
      const state = this.stateOf(file);
      return !state.busy && (state.hot || now >= this.nextFullAt);
    });
    if (now >= this.nextFullAt) this.nextFullAt = now + this.intervalMs;
    await Promise.all(due.map((file) => this.checkOne(file, now)));
  }

  private stateOf(file: string): FileState {
    let state = this.states.get(file);
    if (!state) {
      state = {
        busy: false,
        hot: false,
        lastKeptAt: 0,
        dropped: 0,
        lastFloodReportAt: 0,
        refusedReported: false,
      };
      this.states.set(file, state);
    }
    return state;
  }

  private async checkOne(file: string, now: number): Promise<void> {
    const state = this.stateOf(file);
    const { maxBytes } = this.options.rotation;
    // A stat first: the common case (under the size) opens nothing.
    const size = statSync(file, { throwIfNoEntry: false })?.size;
    if (size === undefined || size <= maxBytes) {
      state.hot = false;
      return;
    }
    state.busy = true;
    const drop = state.hot && now - state.lastKeptAt < this.intervalMs;
    let outcome: RotationOutcome;
    try {
      outcome = await rotateLog(file, this.options.rotation, { drop });
    } catch (err) {
      state.hot = false;
      this.options.logger.warn({ file, err }, "log.rotate_failed");
      return;
    } finally {
      state.busy = false;
    }
    if (!outcome.rotated) {
      state.hot = false;
      if (outcome.refused && !state.refusedReported) {
        state.refusedReported = true;
        this.options.logger.warn({ file, reason: outcome.refused }, "log.refused");
      }
      return;
    }
    state.hot = true;
    if (outcome.kept > 0) state.lastKeptAt = now;
    state.dropped += outcome.dropped;
    this.options.logger.debug(
      { file, method: outcome.method, size: outcome.size, kept: outcome.kept },
      "log.rotated",
    );
    if (state.dropped > 0 && now - state.lastFloodReportAt >= this.intervalMs) {
      this.options.logger.warn({ file, droppedBytes: state.dropped }, "log.flood");
      state.dropped = 0;
      state.lastFloodReportAt = now;
    }
  }

  /**
   * The next look is not held by a rotation under way (a collapse waits for the log's
   * dirty pages to be written back): that log is skipped while busy, the others go on.
   */
  private arm(file: string): void {
    const state = this.stateOf(file);
    if (!this.running || state.watch) return;
    try {
      state.watch = watch(file, { persistent: false }, () => this.written(file));
      state.watch.on("error", () => this.disarm(state));
    } catch {
      // No log yet, or no inotify watch left: the poll looks at it.
    }
  }

  private disarm(state: FileState): void {
    state.watch?.close();
    state.watch = undefined;
  }

  /** The log was written (or rotated): look now, and listen again a little later. */
  private written(file: string): void {
    const state = this.states.get(file);
    if (!state) return;
    this.disarm(state);
    const rearm = () => {
      setTimeout(() => this.states.get(file) && this.arm(file), this.hotIntervalMs).unref();
    };
    if (!this.running || state.busy) {
      rearm();
      return;
    }
    this.checkOne(file, Date.now()).then(rearm, (err: unknown) => {
      this.options.logger.warn({ file, err }, "log.check_failed");
      rearm();
    });
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.check().catch((err: unknown) => this.options.logger.warn({ err }, "log.check_failed"));
      this.schedule(this.anyHotOrBusy() ? this.hotIntervalMs : this.untilFull());
    }, delayMs);
    this.timer.unref();
  }

  private anyHotOrBusy(): boolean {
    for (const state of this.states.values()) if (state.hot || state.busy) return true;
    return false;
  }

  private untilFull(): number {
    return Math.max(0, this.nextFullAt - Date.now());
  }
}
