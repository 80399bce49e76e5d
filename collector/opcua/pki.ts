import { join } from "node:path";
import { OPCUACertificateManager } from "node-opcua";

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

/** The caller disposes of it (it watches the PKI folders) once its client is gone. */
export async function clientCertificateManager(dataDir: string): Promise<OPCUACertificateManager> {
  const manager = new OPCUACertificateManager({
    rootFolder: pkiDir(dataDir),
    automaticallyAcceptUnknownCertificate: false,
    name: "outpost-collector",
  });
  await manager.initialize();
  return manager;
}
