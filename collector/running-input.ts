import { Backoff, type BackoffOptions, type Logger } from "../common/index.js";
import { qualityOf } from "./error-quality.js";
import type { Input, InputContext, RecordOutput } from "./input.js";
import { Quality } from "./quality.js";
import type { TelemetryRecord } from "./record.js";

/**
 * Between probes of a device that went away (inputs with `probe`): a probe costs one
 * TCP connection, so it runs often, and the cap bounds how long after the device's
 * return its data flows again, whatever the outage lasted. Jitter spreads the devices
 * that lost one server together.
 */
const PROBE_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 500, jitter: "bounded" };

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
  /**
   * Values that could not be recorded, each written as a record of its tag with no value
   * saying why: `bad_type` (NaN/±Infinity, unsupported type) or `too_large` (array above
   * `maxArrayLength`, record above the buffer's `maxRecordBytes`).
   */
  unrecordable: number;
  lastError?: string;
}

/**
 * Runs one input: starts it (again, with backoff, after a failure), schedules polled
 * inputs every `intervalMs` on a fixed grid, counts overruns instead of queueing ticks,
 * backs off a device that answers nothing while the others keep their schedule, marks
 * every tag bad when the input is down, and keeps the stats. One wrapper for all inputs,
 * so no input has its own retry loop.
 *
 * An input that failed is down until a start succeeds: its tags get one record with the
 * failure's quality when the outage starts (and after each failed start), and one
 * `resumed` record, carrying the outage's bounds, before the first data of the start
 * that ends it. An input with a `probe` is probed every `PROBE_BACKOFF` while down and
 * started once the probe passes; a start that fails although the probe passed (the
 * device answers but refuses: certificate, user) waits the long `backoff`.
 */
export class RunningInput {
  readonly stats: InputStats;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private readonly writing = new Set<Promise<void>>();
  private gathering: Promise<void> | undefined;
  private resumeAt = 0;
  private nextTick = 0;
  private readonly backoff: Backoff;
  private readonly probeBackoff = new Backoff(PROBE_BACKOFF);
  private readonly logger: Logger;
  private started = false;
  private loggedTooLarge = false;
  /**
   * Set from the failure that took the input down until data flows again; `to`: when
   * the device last answered a probe, where the outage ends if the start that follows
   * succeeds (the device was back; the start's own time is the collector's).
   */
  private outage: { from: number; to?: number } | undefined;
  /** Counts starts: a context from an earlier start can no longer fail or resume the input. */
  private epoch = 0;

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
      unrecordable: 0,
    };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.attempt();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.gathering;
    if (this.started) {
      this.started = false;
      await this.input.stop().catch(() => {});
    }
    await Promise.all(this.writing);
    this.stats.state = "stopped";
  }

  private context(): InputContext {
    const epoch = ++this.epoch;
    const current = () => epoch === this.epoch && !this.stopped;
    return {
      logger: this.logger,
      emit: (records) => {
        if (current()) this.resume();
        void this.write(records);
      },
      fail: (err, since) => {
        if (current()) void this.onServiceFailure(err, since);
      },
    };
  }

  /** Probes an input that is down (when it can be probed), then starts it. */
  private async attempt(): Promise<void> {
    if (this.outage && this.input.probe) {
      try {
        await this.input.probe();
      } catch (err) {
        if (this.stopped) return;
        const delay = this.probeBackoff.next();
        // Logged when the reason changes, not at every probe of a long outage.
        if ((err as Error).message !== this.stats.lastError) {
          this.stats.lastError = (err as Error).message;
          this.logger.warn(
            { err: (err as Error).message, code: errCode(err), retryInMs: delay },
            "input.unreachable",
          );
        }
        this.timer = setTimeout(() => void this.attempt(), delay);
        return;
      }
      if (this.stopped) return;
      this.outage.to = Date.now();
      this.probeBackoff.reset();
      await this.startInput(true);
      return;
    }
    await this.startInput(false);
  }

  private async startInput(probed = false): Promise<void> {
    this.stats.state = "starting";
    try {
      await this.input.start(this.context());
      this.started = true;
    } catch (err) {
      await this.input.stop().catch(() => {});
      if (this.stopped) return;
      this.markDown(err as Error);
      const delay = this.input.probe && !probed ? this.probeBackoff.next() : this.backoff.next();
      this.logger.warn(
        { err: (err as Error).message, code: errCode(err), retryInMs: delay },
        "input.backoff",
      );
      this.timer = setTimeout(() => void this.attempt(), delay);
      return;
    }
    if (this.stopped) {
      this.started = false;
      await this.input.stop().catch(() => {});
      return;
    }
    this.stats.state = "running";
    this.resume();
    this.logger.info({ tags: this.input.tags.length }, "input.started");
    if (this.input.gather) {
      this.nextTick = Date.now();
      this.tick();
    } else {
      this.backoff.reset();
    }
  }

  private async onServiceFailure(err: Error, since?: number): Promise<void> {
    if (this.stats.state !== "running") return;
    this.started = false;
    // Marked before the stop, which may wait on a server that no longer answers.
    this.markDown(err, since);
    await this.input.stop().catch(() => {});
    if (this.stopped) return;
    const delay = this.input.probe ? this.probeBackoff.next() : this.backoff.next();
    this.logger.warn(
      { err: err.message, code: errCode(err), retryInMs: delay, since },
      "input.lost",
    );
    this.timer = setTimeout(() => void this.attempt(), delay);
  }

  /**
   * The input is down: an outage starts (at `since`, when the device was last heard, if
   * earlier) unless one is on, and every tag gets a record with the failure's quality.
   */
  private markDown(err: Error, since?: number): void {
    this.stats.state = "backoff";
    this.stats.failures++;
    this.stats.lastError = err.message;
    const ts = Math.min(since ?? Date.now(), Date.now());
    this.outage ??= { from: ts };
    const quality = qualityOf(err);
    void this.write(this.input.tags.map((t) => this.markRecord(t, ts, quality)));
  }

  /** Ends an outage, if one is on: every tag gets a `resumed` record with its bounds. */
  private resume(): void {
    const outage = this.outage;
    if (!outage) return;
    this.outage = undefined;
    const to = outage.to ?? Date.now();
    this.logger.info({ outageMs: to - outage.from }, "input.resumed");
    void this.write(
      this.input.tags.map((t) => ({
        ...this.markRecord(t, to, Quality.resumed),
        outageFrom: outage.from,
        outageTo: to,
      })),
    );
  }

  private markRecord(tag: Input["tags"][number], ts: number, quality: string): TelemetryRecord {
    const r: TelemetryRecord = {
      device: this.input.device,
      tag: tag.name,
      ts,
      value: null,
      quality,
    };
    if (tag.unit !== undefined) r.unit = tag.unit;
    return r;
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

  /** Writes still in flight: `stop` waits for them, so stats and the buffer agree after it. */
  private write(records: TelemetryRecord[]): Promise<void> {
    const writing = this.writeNow(records);
    this.writing.add(writing);
    void writing.finally(() => this.writing.delete(writing));
    return writing;
  }

  private async writeNow(records: TelemetryRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.stats.records += records.length;
    for (const r of records) {
      if (r.quality === "good") continue;
      this.stats.badRecords++;
      if (r.quality === Quality.badType || r.quality === Quality.tooLarge) {
        this.stats.unrecordable++;
      }
    }
    try {
      const result = await this.output.write(records);
      if (result && result.tooLarge > 0) {
        // Logged once per device: every later one has its record and is counted.
        if (!this.loggedTooLarge)
          this.logger.warn({ records: result.tooLarge }, "output.too_large");
        this.loggedTooLarge = true;
        this.stats.badRecords += result.tooLarge;
        this.stats.unrecordable += result.tooLarge;
      }
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
