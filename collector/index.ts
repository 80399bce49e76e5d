// First: node-opcua's console output must be redirected before any of its modules load.
// node-opcua itself is loaded only on use (an OPC-UA device, browse, the OPC-UA
// simulator): nothing else here imports it.
import "./opcua/library-logs.js";

export { type BufferOutput, openBufferOutput } from "./buffer-output.js";
export { Collector, type CollectorOptions, type LineStats } from "./collector.js";
export type {
  CollectorConfig,
  DeviceConfig,
  ModbusDeviceConfig,
  ModbusTag,
  OpcuaDeviceConfig,
  OpcuaTag,
} from "./config.js";
export { collectorConfigSchema } from "./config-schema.js";
export {
  CollectorConfigError,
  CollectorError,
  ModbusConnectionError,
  ModbusExceptionError,
  ModbusResponseError,
  ModbusTimeoutError,
  OpcuaCertificateRefusedError,
  OpcuaConnectionError,
  OpcuaEndpointError,
  OpcuaUntrustedCertificateError,
} from "./errors.js";
export type { GatherResult, Input, InputContext, RecordOutput } from "./input.js";
export type { ModbusInput } from "./modbus/modbus-input.js";
export { ModbusLine } from "./modbus/modbus-line.js";
export { planReads, type ReadRequest } from "./modbus/read-plan.js";
export { browse } from "./opcua/browse.js";
export { type BrowseNode, type BrowseOptions, formatTree } from "./opcua/browse-tree.js";
export { routeOpcuaLibraryLogs } from "./opcua/library-logs.js";
export type { OpcuaInput } from "./opcua/opcua-input.js";
export { modbusExceptionQuality, Quality } from "./quality.js";
export { readOnce } from "./read-once.js";
export {
  decodeRecord,
  encodeRecord,
  isRecordSchema,
  jsonValue,
  RECORD_SCHEMA,
  RECORD_SCHEMA_FINGERPRINT,
  recordToJsonLine,
  type TagValue,
  type TelemetryRecord,
} from "./record.js";
export type { InputStats } from "./running-input.js";
export {
  type RunningTurbineSim,
  startTurbineSim,
  type TurbineSimOptions,
} from "./sim/turbine-sim.js";
export { validateCollectorConfig } from "./validate.js";
