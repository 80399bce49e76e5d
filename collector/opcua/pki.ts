import { join } from "node:path";
import { OPCUACertificateManager, type StatusCode } from "node-opcua";

/** A DER certificate, or a chain of them concatenated (what node-opcua passes). */
type Certificate = Buffer;

/**
 * The collector's PKI store (own key and certificate, trusted/ and rejected/ server
 * certificates) lives in its data dir, never in node-opcua's default under
 * `~/.config`: a gateway's trust decisions belong with the rest of its state.
 */
export function pkiDir(dataDir: string): string {
  return join(dataDir, "pki");
}

export function trustedDir(dataDir: string): string {
  return join(pkiDir(dataDir), "trusted", "certs");
}

/** Where node-opcua saves the certificate of a server it refused. */
export function rejectedDir(dataDir: string): string {
  return join(pkiDir(dataDir), "rejected");
}

/**
 * The collector's own certificate (PEM), created on first use: the file a server that
 * refuses the collector has to be given. Clients are created with it explicitly, so the
 * path an error message names is the one in use.
 */
export function ownCertificateFile(dataDir: string): string {
  return join(pkiDir(dataDir), "own", "certs", "client_certificate.pem");
}

/**
 * A PKI store that remembers the last server certificate it refused: node-opcua's
 * connect error says only that verification failed, and the operator needs the file
 * it was saved as (named by the certificate's thumbprint) to trust it.
 */
export class CollectorCertificates extends OPCUACertificateManager {
  refusedCertificate: Certificate | undefined;
}

/** The caller disposes of it (it watches the PKI folders) once its client is gone. */
export async function clientCertificateManager(dataDir: string): Promise<CollectorCertificates> {
  const manager = new CollectorCertificates({
    rootFolder: pkiDir(dataDir),
    automaticallyAcceptUnknownCertificate: false,
    name: "outpost-collector",
  });
  await manager.initialize();
  // node-opcua verifies a server's certificate with the promise form of checkCertificate.
  const check = manager.checkCertificate.bind(manager) as (c: Certificate) => Promise<StatusCode>;
  const remembering = async (certificate: Certificate): Promise<StatusCode> => {
    const status = await check(certificate);
    if (status.isNotGood()) manager.refusedCertificate = certificate;
    return status;
  };
  manager.checkCertificate = remembering as OPCUACertificateManager["checkCertificate"];
  return manager;
}
