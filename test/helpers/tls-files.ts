import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TlsFiles {
  /** The test CA's certificate (PEM). */
  ca: string;
  /** A server certificate for 127.0.0.1 and localhost, signed by the CA, and its key. */
  serverCert: string;
  serverKey: string;
  /** A client certificate (clientAuth) signed by the CA, and its key (0600). */
  clientCert: string;
  clientKey: string;
  /** A second CA's certificate that signed nothing here: a server fails verification against it. */
  strangerCa: string;
}

/**
 * A CA of its own, written into `dir` with openssl (P-256, valid a day), and the server
 * and client certificates it signed: TLS for a test's server that no machine trust store
 * holds.
 */
export function makeTlsFiles(dir: string): TlsFiles {
  mkdirSync(dir, { recursive: true });
  const at = (name: string) => join(dir, name);
  // node-opcua, once loaded, sets OPENSSL_CONF to the string "undefined" for its children.
  const { OPENSSL_CONF: _, ...env } = process.env;
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe", env });
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const selfSigned = (name: string) =>
    openssl(
      "req",
      "-x509",
      ...newKey,
      "-days",
      "1",
      "-subj",
      `/CN=${name}`,
      ...["-keyout", at(`${name}.key`), "-out", at(`${name}.pem`)],
    );
  const signed = (name: string, extension: string) => {
    writeFileSync(at(`${name}.ext`), `${extension}\n`);
    openssl(
      "req",
      ...newKey,
      "-subj",
      `/CN=${name}`,
      ...["-keyout", at(`${name}.key`), "-out", at(`${name}.csr`)],
    );
    openssl(
      ...["x509", "-req", "-in", at(`${name}.csr`), "-days", "1", "-sha256"],
      ...[
        "-CA",
        at("ca.pem"),
        "-CAkey",
        at("ca.key"),
        "-CAcreateserial",
        "-out",
        at(`${name}.pem`),
      ],
      ...["-extfile", at(`${name}.ext`)],
    );
  };
  selfSigned("ca");
  selfSigned("stranger-ca");
  signed("server", "subjectAltName=IP:127.0.0.1,DNS:localhost");
  signed("client", "extendedKeyUsage=clientAuth");
  for (const key of ["ca", "stranger-ca", "server", "client"]) chmodSync(at(`${key}.key`), 0o600);
  return {
    ca: at("ca.pem"),
    serverCert: at("server.pem"),
    serverKey: at("server.key"),
    clientCert: at("client.pem"),
    clientKey: at("client.key"),
    strangerCa: at("stranger-ca.pem"),
  };
}
