import { Backoff, type BackoffOptions, type Logger } from "../common/index.js";
import { qualityOf } from "./error-quality.js";
import type { Input, InputContext, RecordOutput } from "./input.js";
import type { TelemetryRecord } from "./record.js";

export interface InputStats {
  device: string;
  kind: Input["kind"];
  state: "starting" | "running" | "backoff" | "stopped";
  gathers: number;
  records: number;
  /** Records written with a quality other than `good`. */
  badRecords: number;
  /** Ticks skipped because the previous gather had not finished. */
  overruns: number;
  /** Times the input failed and was backed off (silent unit, lost connection). */
  failures: number;
  /** Records the output refused (counted, never silently dropped). */
  outputErrors: number;
  lastError?: string;
}

/**
 * Runs one input: starts it (again, with backoff, after a failure), schedules polled
 * inputs every `intervalMs` on a fixed grid, counts overruns instead of queueing ticks,
 * backs off a device that answers nothing while the others keep their schedule, marks
 * every tag bad when the input is down, and keeps the stats. One wrapper for all inputs,
 * so no input has its own retry loop.
 */
export class RunningInput {
  readonly stats: InputStats;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private gathering: Promise<void> | undefined;
  private resumeAt = 0;
  private nextTick = 0;
  private readonly backoff: Backoff;
  private readonly logger: Logger;
  private started = false;

  constructor(
    private readonly input: Input,
    private readonly output: RecordOutput,
    logger: Logger,
    backoff: BackoffOptions = { initialMs: 1000, maxMs: 60_000 },
  ) {
    this.logger = logger.child({ device: input.device, input: input.kind });
    // Bounded jitter: devices failing together after a shared outage retry spread out,
    // none sooner than `initialMs`.
    this.backoff = new Backoff({ jitter: "bounded", ...backoff });
    this.stats = {
      device: input.device,
      kind: input.kind,
      state: "stopped",
      gathers: 0,
      records: 0,
      badRecords: 0,
      overruns: 0,
      failures: 0,
      outputErrors: 0,
    };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.startInput();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.gathering;
    if (this.started) {
      this.started = false;
      await this.input.stop().catch(() => {});
    }
    this.stats.state = "stopped";
  }

  private context(): InputContext {
    return {
      logger: this.logger,
      emit: (records) => void this.write(records),
      fail: (err) => void this.onServiceFailure(err),
    };
  }

  private async startInput(): Promise<void> {
    this.stats.state = "starting";
    try {
      await this.input.start(this.context());
      this.started = true;
    } catch (err) {
      await this.input.stop().catch(() => {});
      if (this.stopped) return;
      this.enterBackoff(err as Error, () => void this.startInput());
      return;
    }
    if (this.stopped) {
      this.started = false;
      await this.input.stop().catch(() => {});
      return;
    }
    this.stats.state = "running";
    this.logger.info({ tags: this.input.tags.length }, "input.started");
    if (this.input.gather) {
      this.nextTick = Date.now();
      this.tick();
    } else {
      this.backoff.reset();
    }
  }

  private async onServiceFailure(err: Error): Promise<void> {
    if (this.stopped || this.stats.state !== "running") return;
    this.stats.state = "backoff";
    this.started = false;
    await this.input.stop().catch(() => {});
    if (this.stopped) return;
    this.enterBackoff(err, () => void this.startInput());
  }

  /** Marks every tag bad with the failure's quality and retries `again` after a backoff. */
  private enterBackoff(err: Error, again: () => void): void {
    this.stats.state = "backoff";
    this.stats.failures++;
    this.stats.lastError = err.message;
    const quality = qualityOf(err);
    const ts = Date.now();
    void this.write(
      this.input.tags.map((t) => {
        const r: TelemetryRecord = {
          device: this.input.device,
          tag: t.name,
          ts,
          value: null,
          quality,
        };
        if (t.unit !== undefined) r.unit = t.unit;
        return r;
      }),
    );
    const delay = this.backoff.next();
    this.logger.warn({ err: err.message, code: errCode(err), retryInMs: delay }, "input.backoff");
    this.timer = setTimeout(again, delay);
  }

  private tick(): void {
    if (this.stopped) return;
    const now = Date.now();
    // Timers run on the monotonic clock and may fire a millisecond before the wall
    // clock reaches the tick: wait for it rather than gather twice in one slot.
    if (now < this.nextTick) {
      this.timer = setTimeout(() => this.tick(), this.nextTick - now);
      return;
    }
    const interval = this.input.intervalMs;
    // Fixed grid: a slow gather or a blocked event loop shifts nothing; ticks missed
    // are counted as overruns, not queued.
    const missed = Math.floor((now - this.nextTick) / interval);
    this.nextTick += (missed + 1) * interval;
    this.stats.overruns += missed;
    this.timer = setTimeout(() => this.tick(), this.nextTick - now);
    if (now < this.resumeAt) return;
    if (this.gathering) {
      this.stats.overruns++;
      this.logger.warn({ overruns: this.stats.overruns, intervalMs: interval }, "input.overrun");
      return;
    }
    this.gathering = this.gatherOnce().finally(() => {
      this.gathering = undefined;
    });
  }

  private async gatherOnce(): Promise<void> {
    const gather = this.input.gather;
    if (!gather) return;
    this.stats.gathers++;
    const result = await gather.call(this.input);
    await this.write(result.records);
    if (result.failure) {
      this.stats.failures++;
      this.stats.lastError = result.failure.message;
      this.stats.state = "backoff";
      const delay = this.backoff.next();
      this.resumeAt = Date.now() + delay;
      this.logger.warn(
        { err: result.failure.message, code: errCode(result.failure), retryInMs: delay },
        "input.backoff",
      );
    } else {
      if (this.stats.state === "backoff") this.logger.info({}, "input.recovered");
      this.stats.state = "running";
      this.backoff.reset();
    }
  }

  private async write(records: TelemetryRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.stats.records += records.length;
    for (const r of records) if (r.quality !== "good") this.stats.badRecords++;
    try {
      await this.output.write(records);
    } catch (err) {
      this.stats.outputErrors += records.length;
      this.logger.error(
        { err: (err as Error).message, code: errCode(err), records: records.length },
        "output.failed",
      );
    }
  }
}

function errCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}
