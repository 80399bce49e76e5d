import { modbusExceptionQuality, Quality } from "./quality.js";

/**
 * The one place where a failure becomes the quality of the tags it hit. Matched on the
 * stable `code`, not the class: node-opcua code is loaded on demand, and a module
 * loaded that way may see its own copy of errors.ts (tsx does this), so `instanceof`
 * would miss.
 */
export function qualityOf(err: unknown): string {
  const { code, exception } = err as { code?: unknown; exception?: unknown };
  switch (code) {
    case "E_MODBUS_TIMEOUT":
      return Quality.timeout;
    case "E_MODBUS_EXCEPTION":
      return typeof exception === "number"
        ? modbusExceptionQuality(exception)
        : Quality.badResponse;
    case "E_MODBUS_RESPONSE":
      return Quality.badResponse;
    case "E_OPCUA_UNTRUSTED":
      return Quality.untrustedCertificate;
    default:
      return Quality.commError;
  }
}
