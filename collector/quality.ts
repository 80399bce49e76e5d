/**
 * Record qualities: `good`, or one short stable code saying why a value is missing or
 * suspect. Modbus failures map to the codes below; OPC-UA status codes keep their
 * standard names (`BadNodeIdUnknown`, `UncertainLastUsableValue`) so they can be looked
 * up in the specification.
 */
export const GOOD = "good";

export const Quality = {
  good: GOOD,
  /** The device cannot be reached: connection refused, closed or not yet open. */
  commError: "comm_error",
  /** No reply within the timeout (after the configured retries). */
  timeout: "timeout",
  /** The reply was malformed: short frame, wrong length, CRC, unit or function mismatch. */
  badResponse: "bad_response",
  /** The value read cannot be represented (a NaN-free type got garbage, an unsupported OPC-UA type). */
  badType: "bad_type",
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
