import { parseDuration } from "../../common/index.js";
import type { OpcuaDeviceConfig, OpcuaTag } from "../config.js";
import type { Input, InputContext } from "../input.js";
import { probeEndpoint } from "./endpoint-probe.js";
import { hangTimeoutMs } from "./hang-bound.js";
import type { OpcuaSession } from "./opcua-session.js";

/**
 * One OPC-UA device as an Input. node-opcua (about 80 MB of resident memory once loaded)
 * is imported on the first start, so a gateway that only polls Modbus never loads it;
 * the session itself lives in opcua-session.ts. One OpcuaSession serves every start, so
 * a session whose connection broke can be taken over by the next one.
 */
export class OpcuaInput implements Input {
  readonly kind = "opcua";
  readonly device: string;
  readonly intervalMs: number;
  readonly tags: readonly OpcuaTag[];
  /** No publish response for this long: the server is taken as hung. */
  readonly hangTimeoutMs: number;
  private session: OpcuaSession | undefined;

  constructor(
    private readonly config: OpcuaDeviceConfig,
    private readonly dataDir: string,
  ) {
    this.device = config.name;
    this.intervalMs = parseDuration(config.interval);
    this.tags = config.tags;
    this.hangTimeoutMs = hangTimeoutMs(config);
  }

  /** Monitored items alive in the current session (0 while down). */
  get monitoredCount(): number {
    return this.session?.monitoredCount ?? 0;
  }

  get subscriptionCount(): number {
    return this.session?.subscriptionCount ?? 0;
  }

  async start(ctx: InputContext): Promise<void> {
    if (!this.session) {
      const { OpcuaSession } = await import("./opcua-session.js");
      this.session = new OpcuaSession(this.config, this.dataDir, this.hangTimeoutMs);
    }
    await this.session.start(ctx);
  }

  /** A Hello to the endpoint, within the configured `timeout`. */
  probe(): Promise<void> {
    return probeEndpoint(this.config.opcua.endpoint, parseDuration(this.config.opcua.timeout));
  }

  async stop(): Promise<void> {
    await this.session?.stop();
  }
}
