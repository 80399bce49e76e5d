import { CodedError } from "../common/errors.js";

/**
 * The base of the collector's errors, each with a stable `code` (docs/errors.md); callers
 * match on `code`, never on the message.
 */
export abstract class CollectorError extends CodedError {}

/** A collector config that passed the JSON Schema but is still inconsistent (`key` says where). */
export class CollectorConfigError extends CollectorError {
  readonly code = "E_COLLECTOR_CONFIG";
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
  }
}

/** A Modbus device answered with an exception response (`exception` is its code, 1–255). */
export class ModbusExceptionError extends CollectorError {
  readonly code = "E_MODBUS_EXCEPTION";
  constructor(
    readonly device: string,
    readonly exception: number,
  ) {
    super(`${device}: Modbus exception ${exception}`);
  }
}

/** No reply from a Modbus unit within the timeout. */
export class ModbusTimeoutError extends CollectorError {
  readonly code = "E_MODBUS_TIMEOUT";
  constructor(
    readonly device: string,
    readonly timeoutMs: number,
  ) {
    super(`${device}: no reply within ${timeoutMs} ms`);
  }
}

/** A Modbus reply that does not fit its request: short frame, bad length, CRC, unit or function. */
export class ModbusResponseError extends CollectorError {
  readonly code = "E_MODBUS_RESPONSE";
  constructor(
    readonly device: string,
    reason: string,
  ) {
    super(`${device}: malformed reply (${reason})`);
  }
}

/** The connection (TCP socket or serial line) to a Modbus device is not open. */
export class ModbusConnectionError extends CollectorError {
  readonly code = "E_MODBUS_CONNECTION";
  constructor(
    readonly endpoint: string,
    reason: string,
  ) {
    super(`${endpoint}: ${reason}`);
  }
}

/** An OPC-UA server cannot be reached, refused the session, or dropped it. */
export class OpcuaConnectionError extends CollectorError {
  readonly code = "E_OPCUA_CONNECTION";
  constructor(
    readonly endpoint: string,
    reason: string,
  ) {
    super(`${endpoint}: ${reason}`);
  }
}

/**
 * The OPC-UA server's certificate is not in the collector's trust store. node-opcua
 * treats a certificate found in both rejected/ and trusted/ as rejected, so trusting it
 * means moving it, not copying it. `certificateFile` is the file it was saved as (in
 * `rejectedDir`), when it can be told.
 */
export class OpcuaUntrustedCertificateError extends CollectorError {
  readonly code = "E_OPCUA_UNTRUSTED";
  constructor(
    readonly endpoint: string,
    readonly trustDir: string,
    readonly rejectedDir: string,
    readonly certificateFile?: string,
  ) {
    super(
      `${endpoint}: server certificate is not trusted (BadCertificateUntrusted); it was saved as ${certificateFile ?? `a file in ${rejectedDir}`}: move it into ${trustDir} to trust it`,
    );
  }
}

/**
 * The OPC-UA server refused the collector's certificate when opening the secure channel
 * (`status`: BadSecurityChecksFailed, as most servers say whatever the reason, or a
 * BadCertificate… name). `certificateFile` is the collector's own certificate, the one
 * the server has to trust.
 */
export class OpcuaCertificateRefusedError extends CollectorError {
  readonly code = "E_OPCUA_CERT_REFUSED";
  constructor(
    readonly endpoint: string,
    readonly status: string,
    readonly certificateFile: string,
  ) {
    super(
      `${endpoint}: the server refused the collector's certificate (${status}): copy ${certificateFile} into the server's trusted certificates (its PKI folder trusted/certs, or the trust list in its security settings), then connect again`,
    );
  }
}

/**
 * No endpoint of the OPC-UA server takes the security mode and policy asked for
 * (`requested`, e.g. `None`). `offered` lists the server's endpoints as `mode/policy`
 * when it told them; `advice` says which setting to change (config keys or flags).
 */
export class OpcuaEndpointError extends CollectorError {
  readonly code = "E_OPCUA_ENDPOINT";
  constructor(
    readonly endpoint: string,
    readonly requested: string,
    readonly offered: readonly string[] | undefined,
    advice: string,
  ) {
    super(
      offered
        ? `${endpoint}: the server has no endpoint for security ${requested}; it offers ${offered.join(", ")}: ${advice}`
        : `${endpoint}: the server refuses security ${requested} and does not list its endpoints to an unsecured client: ${advice}`,
    );
  }
}
