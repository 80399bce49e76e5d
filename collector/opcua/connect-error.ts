import { OpcuaConnectionError, OpcuaUntrustedCertificateError } from "../errors.js";
import { rejectedDir, trustedDir } from "./pki.js";

/**
 * A failed `client.connect` as a typed error: a refused server certificate says where it
 * was saved and where to move it; anything else is a connection error with node-opcua's
 * first line.
 */
export function connectError(endpoint: string, dataDir: string, err: Error): Error {
  if (/BadCertificate|certificate.*(trust|untrusted|rejected)/i.test(err.message)) {
    return new OpcuaUntrustedCertificateError(endpoint, trustedDir(dataDir), rejectedDir(dataDir));
  }
  return new OpcuaConnectionError(endpoint, `cannot connect (${err.message.split("\n")[0]})`);
}
