/**
 * Record qualities: `good` and `uncertain` carry a value; every other quality is one
 * short stable code saying why a value is missing. Modbus failures map to the codes
 * below; a Bad OPC-UA status keeps its standard name (`BadNodeIdUnknown`) so it can be
 * looked up in the specification. The table of what maps to what is in the README.
 */
export const GOOD = "good";

export const Quality = {
  good: GOOD,
  /** An OPC-UA value with an Uncertain status: usable with care; `status` says which. */
  uncertain: "uncertain",
  /** The device cannot be reached: connection refused, closed or not yet open. */
  commError: "comm_error",
  /** No reply within the timeout (after the configured retries). */
  timeout: "timeout",
  /** The reply was malformed: short frame, wrong length, CRC, unit or function mismatch. */
  badResponse: "bad_response",
  /** The value cannot be represented: NaN or ±Infinity, an unsupported OPC-UA type (`status` names it). */
  badType: "bad_type",
  /** The source holds no value (an OPC-UA variable whose variant is Null). */
  noValue: "no_value",
  /**
   * The value is too large to record: an array longer than `maxArrayLength`, a record
   * above the buffer's `maxRecordBytes`; `status` gives the size.
   */
  tooLarge: "too_large",
  /** Data flows again after an outage; `outageFrom`/`outageTo` bound the gap. */
  resumed: "resumed",
  /** The OPC-UA server's certificate is not in the collector's trust store. */
  untrustedCertificate: "untrusted_certificate",
} as const;

const MODBUS_EXCEPTIONS: Record<number, string> = {
  1: "illegal_function",
  2: "illegal_address",
  3: "illegal_value",
  4: "device_failure",
  5: "acknowledge",
  6: "busy",
  8: "memory_parity",
  10: "gateway_path",
  11: "gateway_no_response",
};

/** Modbus exception code → quality (`exception_NN` for codes the standard does not name). */
export function modbusExceptionQuality(code: number): string {
  return MODBUS_EXCEPTIONS[code] ?? `exception_${code.toString(16).padStart(2, "0")}`;
}
