/** A duration: a string in common's grammar (`250ms`, `1.5s`, `2m`), or a number of ms. */
export type Duration = string | number;

/** The collector config file, as validated by `collectorConfigSchema`. */
export interface CollectorConfig {
  /** Where the collector keeps its own state (the OPC-UA PKI / trust store). */
  dataDir: string;
  devices: DeviceConfig[];
  output?: {
    buffer: string;
    stream: string;
    /** `agent`: `collector run` forwards the buffer through the agent's local API. */
    forward?: "agent";
  };
}

export type DeviceConfig = ModbusDeviceConfig | OpcuaDeviceConfig;

export type RegisterKind = "coil" | "discrete" | "input" | "holding";
export type ModbusType =
  | "bool"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "float32"
  | "float64"
  | "string";
export type WordOrder = "ABCD" | "CDAB" | "BADC" | "DCBA";

export interface ModbusTag {
  name: string;
  register: RegisterKind;
  address: number;
  type: ModbusType;
  order: WordOrder;
  /** Registers holding a `string` (two bytes each). */
  length?: number;
  scale?: number;
  offset?: number;
  unit?: string;
}

export interface RtuSerial {
  port: string;
  baud: number;
  parity: "none" | "even" | "odd";
  dataBits: 7 | 8;
  stopBits: 1 | 2;
}

export interface ModbusConnectionConfig {
  tcp?: string;
  rtu?: RtuSerial;
  rtuOverTcp?: string;
  unit: number;
  timeout: Duration;
  /** Extra attempts after a timeout, within one poll. */
  retries: number;
  /** Merge tags into one request (off = one request per tag, for diagnosis). */
  coalesce: boolean;
  /** Largest hole, in registers or bits, a merged request may read across. */
  maxGap: number;
  maxRegisters: number;
  maxBits: number;
  /** Requests in flight on one TCP connection; RTU lines always have exactly one. */
  pipeline: number;
}

export interface ModbusDeviceConfig {
  name: string;
  interval: Duration;
  modbus: ModbusConnectionConfig;
  tags: ModbusTag[];
}

export interface OpcuaSecurity {
  mode: "None" | "Sign" | "SignAndEncrypt";
  policy?: "Basic256Sha256" | "Aes128_Sha256_RsaOaep" | "Aes256_Sha256_RsaPss";
  user?: string;
  password?: string;
  /** Client certificate and key (PEM) for X.509 user authentication. */
  certificate?: string;
  privateKey?: string;
}

export interface OpcuaConnectionConfig {
  endpoint: string;
  security: OpcuaSecurity;
  timeout: Duration;
  /**
   * A server silent this long (no publish response, not even a keep-alive) is taken as
   * lost; absent: 10 s, or three publishing intervals when that is longer.
   */
  hangTimeout?: Duration;
  /** Monitored items asked for in one CreateMonitoredItems call. */
  batchSize: number;
}

export interface OpcuaTag {
  name: string;
  node: string;
  samplingInterval?: Duration;
  queueSize: number;
  /** Longer arrays are recorded as `too_large`, without a value. */
  maxArrayLength: number;
  deadband?: { absolute: number } | { percent: number };
  unit?: string;
}

export interface OpcuaDeviceConfig {
  name: string;
  /** The subscription's publishing interval. */
  interval: Duration;
  opcua: OpcuaConnectionConfig;
  tags: OpcuaTag[];
}

export function isModbusDevice(d: DeviceConfig): d is ModbusDeviceConfig {
  return "modbus" in d;
}
