import { hasCode } from "../../common/errors.js";
import { type BackoffOptions, backoffDelay, parseDuration } from "../../common/index.js";
import type { ModbusDeviceConfig, ModbusTag } from "../config.js";
import { qualityOf } from "../error-quality.js";
import type { ModbusExceptionError } from "../errors.js";
import type { GatherResult, Input, InputContext } from "../input.js";
import type { TelemetryRecord } from "../record.js";
import { readingOf } from "../sample-quality.js";
import { tagValue } from "./decode.js";
import type { ModbusLine } from "./modbus-line.js";
import { planReads, type ReadRequest } from "./read-plan.js";

const BUSY = 6;
const BUSY_RETRIES = 3;
/** A busy unit is asked again after 50, 100, 200 ms. */
const BUSY_BACKOFF: BackoffOptions = { initialMs: 50, maxMs: 200 };

/**
 * One Modbus device: one unit id on a (possibly shared) line. Each gather runs the
 * planned reads through the line, decodes every tag, and gives the tags of a failed
 * request that request's quality; the other requests are unaffected.
 */
export class ModbusInput implements Input {
  readonly kind = "modbus";
  readonly device: string;
  readonly intervalMs: number;
  readonly tags: readonly ModbusTag[];
  private readonly plan: ReadRequest[];
  private readonly timeoutMs: number;

  constructor(
    private readonly config: ModbusDeviceConfig,
    private readonly line: ModbusLine,
  ) {
    this.device = config.name;
    this.intervalMs = parseDuration(config.interval);
    this.tags = config.tags;
    this.timeoutMs = parseDuration(config.modbus.timeout);
    this.plan = planReads(config.tags, config.modbus);
  }

  /** The requests one gather sends (for `collector read` diagnostics and tests). */
  get requests(): readonly ReadRequest[] {
    return this.plan;
  }

  async start(_ctx: InputContext): Promise<void> {
    // The line opens on the first request and is shared: nothing to do per device.
  }

  async stop(): Promise<void> {}

  async gather(): Promise<GatherResult> {
    const ts = Date.now();
    const outcomes = await Promise.all(this.plan.map((req) => this.readWithRetries(req)));
    const records: TelemetryRecord[] = [];
    let failures = 0;
    let lastError: Error | undefined;
    outcomes.forEach((outcome, i) => {
      const req = this.plan[i] as ReadRequest;
      if (outcome instanceof Error) {
        failures++;
        lastError = outcome;
        const quality = qualityOf(outcome);
        for (const { tag } of req.tags) records.push(this.record(tag, ts, null, quality));
        return;
      }
      for (const { tag, offset, width } of req.tags) {
        const slice = outcome.slice(offset, offset + width);
        const value = tag.type === "bool" ? slice[0] === true : tagValue(slice as number[], tag);
        const reading = readingOf({ kind: "value", value });
        const r = this.record(tag, ts, reading.value, reading.quality);
        if (reading.status !== undefined) r.status = reading.status;
        records.push(r);
      }
    });
    // Only a unit that answered nothing is backed off; an exception is an answer.
    const silent =
      failures === this.plan.length && lastError && !hasCode(lastError, "E_MODBUS_EXCEPTION");
    return silent ? { records, failure: lastError } : { records };
  }

  private async readWithRetries(req: ReadRequest): Promise<number[] | boolean[] | Error> {
    let timeouts = 0;
    let busy = 0;
    for (;;) {
      try {
        return await this.line.read(
          this.config.modbus.unit,
          req.functionCode,
          req.address,
          req.count,
          this.timeoutMs,
          this.device,
        );
      } catch (err) {
        if (hasCode(err, "E_MODBUS_TIMEOUT") && timeouts < this.config.modbus.retries) {
          timeouts++;
          continue;
        }
        if (
          hasCode<ModbusExceptionError>(err, "E_MODBUS_EXCEPTION") &&
          err.exception === BUSY &&
          busy < BUSY_RETRIES
        ) {
          busy++;
          await new Promise((r) => setTimeout(r, backoffDelay(BUSY_BACKOFF, busy)));
          continue;
        }
        return err as Error;
      }
    }
  }

  private record(
    tag: ModbusTag,
    ts: number,
    value: TelemetryRecord["value"],
    quality: string,
  ): TelemetryRecord {
    const r: TelemetryRecord = { device: this.device, tag: tag.name, ts, value, quality };
    if (tag.unit !== undefined) r.unit = tag.unit;
    return r;
  }
}
