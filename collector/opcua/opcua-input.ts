import { parseDuration } from "../../common/index.js";
import type { OpcuaDeviceConfig, OpcuaTag } from "../config.js";
import type { Input, InputContext } from "../input.js";
import type { OpcuaSession } from "./opcua-session.js";

/**
 * One OPC-UA device as an Input. node-opcua (about 80 MB of resident memory once loaded)
 * is imported on the first start, so a gateway that only polls Modbus never loads it;
 * the session itself lives in opcua-session.ts.
 */
export class OpcuaInput implements Input {
  readonly kind = "opcua";
  readonly device: string;
  readonly intervalMs: number;
  readonly tags: readonly OpcuaTag[];
  private session: OpcuaSession | undefined;

  constructor(
    private readonly config: OpcuaDeviceConfig,
    private readonly dataDir: string,
  ) {
    this.device = config.name;
    this.intervalMs = parseDuration(config.interval);
    this.tags = config.tags;
  }

  /** Monitored items alive in the current session (0 while down). */
  get monitoredCount(): number {
    return this.session?.monitoredCount ?? 0;
  }

  get subscriptionCount(): number {
    return this.session?.subscriptionCount ?? 0;
  }

  async start(ctx: InputContext): Promise<void> {
    const { OpcuaSession } = await import("./opcua-session.js");
    const session = new OpcuaSession(this.config, this.dataDir);
    this.session = session;
    await session.start(ctx);
  }

  async stop(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.stop();
  }
}
