import type { BackoffOptions, Logger } from "../common/index.js";
import { type CollectorConfig, isModbusDevice } from "./config.js";
import type { Input, RecordOutput } from "./input.js";
import { ModbusInput } from "./modbus/modbus-input.js";
import { ModbusLine } from "./modbus/modbus-line.js";
import { transportKey, transportOf } from "./modbus/transport.js";
import { OpcuaInput } from "./opcua/opcua-input.js";
import { type InputStats, RunningInput } from "./running-input.js";
import { validateCollectorConfig } from "./validate.js";

export interface LineStats {
  line: string;
  requests: number;
  timeouts: number;
  reconnects: number;
}

export interface CollectorOptions {
  output: RecordOutput;
  logger: Logger;
  /** Backoff of failed inputs (tests shorten it); `bounded` jitter unless it says. */
  backoff?: BackoffOptions;
}

/**
 * Every configured device as a running input. Devices behind the same Modbus endpoint
 * share one line; each device is scheduled, backed off and counted on its own, so one
 * misbehaving device never holds up another.
 */
export class Collector {
  readonly inputs: Input[] = [];
  private readonly running: RunningInput[] = [];
  private readonly lines = new Map<string, ModbusLine>();

  constructor(config: CollectorConfig, options: CollectorOptions) {
    validateCollectorConfig(config);
    const logger = options.logger.child({ component: "collector" });
    for (const device of config.devices) {
      let input: Input;
      if (isModbusDevice(device)) {
        const transport = transportOf(device.modbus);
        const key = transportKey(transport);
        let line = this.lines.get(key);
        if (!line) {
          line = new ModbusLine(transport, device.modbus.pipeline, logger);
          this.lines.set(key, line);
        }
        input = new ModbusInput(device, line);
      } else {
        input = new OpcuaInput(device, config.dataDir);
      }
      this.inputs.push(input);
      this.running.push(new RunningInput(input, options.output, logger, options.backoff));
    }
  }

  /**
   * Starts every input. node-opcua is loaded first when an OPC-UA device is configured:
   * its module load blocks the event loop for a second or two, which would otherwise
   * stall the Modbus schedule that is already running.
   */
  async start(): Promise<void> {
    if (this.inputs.some((i) => i.kind === "opcua")) await import("./opcua/opcua-session.js");
    for (const r of this.running) r.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.running.map((r) => r.stop()));
    await Promise.all([...this.lines.values()].map((l) => l.close()));
  }

  stats(): InputStats[] {
    return this.running.map((r) => ({ ...r.stats }));
  }

  /** Per Modbus connection: requests sent, timed out, and reconnects since the start. */
  lineStats(): LineStats[] {
    return [...this.lines.values()].map((l) => ({ line: l.key, ...l.counters }));
  }
}
