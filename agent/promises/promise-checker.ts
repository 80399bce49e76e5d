import type { Logger } from "../../common/index.js";
import type { PromiseResult } from "../../protocol/index.js";
import { type Probe, runProbe } from "./probe.js";

/** One promise of an instance, rendered. */
export interface PromiseCheck {
  name: string;
  probe: Probe;
  intervalMs: number;
  timeoutMs: number;
}

/**
 * Self-repair: once any promise has failed `afterFailures` times in a row, `repair` runs
 * (the instance's processes are restarted), at most `maxRepairs` times until every promise
 * passes again — a broken release is reported, not restarted forever.
 */
export interface SelfRepair {
  afterFailures: number;
  maxRepairs: number;
  repair: () => Promise<void>;
}

export interface PromiseCheckerOptions {
  logger: Logger;
  selfRepair?: SelfRepair;
  /** Called when a promise turns from failed (or unchecked) to ok, or back. */
  onFlip?: (result: PromiseResult) => void;
}

/**
 * Checks an instance's promises, each on its own interval (a check never overlaps the
 * previous one of the same promise). An instance is ready when every promise's latest
 * result is ok; a promise not checked yet is not ok.
 */
export class PromiseChecker {
  private readonly latest = new Map<string, PromiseResult>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running = false;
  private repairing = false;
  /** Self-repairs done since the promises last all passed. */
  repairs = 0;

  constructor(
    readonly checks: readonly PromiseCheck[],
    private readonly options: PromiseCheckerOptions,
  ) {}

  /** Checks every promise now, then each on its interval. */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const check of this.checks) void this.loop(check);
  }

  stop(): void {
    this.running = false;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** The latest result of every promise, in descriptor order. */
  results(): PromiseResult[] {
    return this.checks.map(
      (c) =>
        this.latest.get(c.name) ?? {
          name: c.name,
          ok: false,
          message: "not checked yet",
          checkedAt: 0,
        },
    );
  }

  ready(): boolean {
    return this.results().every((r) => r.ok);
  }

  /** Runs every check once, now (what a converge pass reports). */
  async checkAll(): Promise<PromiseResult[]> {
    await Promise.all(this.checks.map((c) => this.check(c)));
    return this.results();
  }

  private async loop(check: PromiseCheck): Promise<void> {
    if (!this.running) return;
    await this.check(check);
    if (!this.running) return;
    this.timers.set(
      check.name,
      setTimeout(() => void this.loop(check), check.intervalMs),
    );
  }

  private async check(check: PromiseCheck): Promise<void> {
    const outcome = await runProbe(check.probe, check.timeoutMs);
    const result: PromiseResult = {
      name: check.name,
      ok: outcome.ok,
      ...(outcome.message !== undefined ? { message: outcome.message } : {}),
      checkedAt: Date.now(),
    };
    const before = this.latest.get(check.name);
    this.latest.set(check.name, result);
    if (before?.ok !== result.ok) {
      this.options.logger.info(
        { promise: check.name, ok: result.ok, message: result.message },
        result.ok ? "promise.passed" : "promise.failed",
      );
      this.options.onFlip?.(result);
    }
    const failures = result.ok ? 0 : (this.failures.get(check.name) ?? 0) + 1;
    this.failures.set(check.name, failures);
    if (this.ready()) this.repairs = 0;
    await this.maybeRepair(check.name, failures);
  }

  private async maybeRepair(name: string, failures: number): Promise<void> {
    const policy = this.options.selfRepair;
    if (!policy || this.repairing || failures < policy.afterFailures) return;
    if (this.repairs >= policy.maxRepairs) return;
    this.repairing = true;
    this.repairs++;
    this.options.logger.warn(
      { promise: name, failures, repair: this.repairs, maxRepairs: policy.maxRepairs },
      "instance.self_repair",
    );
    try {
      await policy.repair();
    } finally {
      for (const key of this.failures.keys()) this.failures.set(key, 0);
      this.repairing = false;
    }
  }
}
