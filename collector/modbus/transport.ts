import type { ModbusConnectionConfig, RtuSerial } from "../config.js";

/** Where a Modbus line goes; devices with the same transport share one connection. */
export type Transport =
  | { kind: "tcp"; host: string; port: number }
  | { kind: "rtuOverTcp"; host: string; port: number }
  | { kind: "rtu"; serial: RtuSerial };

export function transportOf(config: ModbusConnectionConfig): Transport {
  if (config.rtu) return { kind: "rtu", serial: config.rtu };
  const kind = config.tcp ? "tcp" : "rtuOverTcp";
  const address = (config.tcp ?? config.rtuOverTcp) as string;
  const colon = address.lastIndexOf(":");
  return { kind, host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

/** A stable name for the line: `tcp://host:port`, `rtu+tcp://host:port`, `rtu:/dev/ttyUSB0`. */
export function transportKey(t: Transport): string {
  if (t.kind === "rtu") return `rtu:${t.serial.port}`;
  return `${t.kind === "tcp" ? "tcp" : "rtu+tcp"}://${t.host}:${t.port}`;
}
