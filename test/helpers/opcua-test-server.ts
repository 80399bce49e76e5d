import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Peer, startPeer } from "../collector/peers/peer-process.js";

/**
 * What the collector's OPC-UA contract suite asks of a test server, whichever library
 * implements it (open62541-server.ts, node-opcua-server.ts). Both serve the same address
 * space, namespace 1 with string node ids (see test/fixtures/opcua/open62541-server.c):
 * `Counter` (UInt32, +1 every 100 ms, kept over a restart in `dir`), one variable per
 * scalar type, arrays, status-coded values, `Empty` and the 1 MiB `BigString`.
 */
export interface OpcuaTestServerOptions {
  /** The server's own directory: its counter state, its PKI. */
  dir: string;
  /** A free loopback port is picked when absent. */
  port?: number;
  /** Offers Basic256Sha256, Aes128_Sha256_RsaOaep and Aes256_Sha256_RsaPss (Sign and SignAndEncrypt) besides None. */
  secure?: boolean;
  /** Leaves out the None endpoint (needs `secure`). */
  noNone?: boolean;
  /** Client (application) certificates the server trusts, PEM or DER; absent: it trusts every client. */
  trust?: string[];
  /** user → password; anonymous access stays allowed. */
  users?: Record<string, string>;
  /** Certificates accepted as X.509 user identity tokens, PEM or DER. */
  userCertificates?: string[];
}

export interface OpcuaTestServer {
  readonly implementation: string;
  readonly port: number;
  readonly endpoint: string;
  /** The server's certificate (PEM): copy it into the collector's trusted/ to trust it. */
  readonly certificate: string;
  readonly pid: number;
  /** SIGKILL, waiting for the exit. */
  kill9(): Promise<void>;
  /** SIGSTOP: the process hangs with its connections open. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Starts it again on the same port with the same options (after kill9 or stop). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  stderr(): string;
}

/** The application URI in the server certificate and in both servers' descriptions. */
export const SERVER_APPLICATION_URI = "urn:outpost:test:server";

export interface CertificateFiles {
  pem: string;
  der: string;
  keyPem: string;
  keyDer: string;
}

/**
 * A self-signed RSA-2048 certificate made with openssl, valid for a month, usable by an
 * OPC-UA application (`uri` in the subjectAltName, localhost and 127.0.0.1) or as an
 * X.509 user token. Written as `<dir>/<name>.{pem,der}` and `<name>-key.{pem,der}`, or
 * those files as they are when a first call made them.
 */
export function makeCertificate(dir: string, name: string, uri: string): CertificateFiles {
  mkdirSync(dir, { recursive: true });
  const files = {
    pem: join(dir, `${name}.pem`),
    der: join(dir, `${name}.der`),
    keyPem: join(dir, `${name}-key.pem`),
    keyDer: join(dir, `${name}-key.der`),
  };
  // node-opcua, once loaded, sets OPENSSL_CONF to the string "undefined" for its children.
  const { OPENSSL_CONF: _, ...env } = process.env;
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe", env });
  // A server started again in the same directory keeps its identity, as a real one does.
  if (Object.values(files).every((f) => existsSync(f))) return files;
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-sha256",
    "-days",
    "30",
    "-subj",
    `/CN=${name}/O=outpost tests`,
    "-addext",
    `subjectAltName=URI:${uri},DNS:localhost,IP:127.0.0.1`,
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-addext",
    "keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment",
    "-addext",
    "extendedKeyUsage=serverAuth,clientAuth",
    "-keyout",
    files.keyPem,
    "-out",
    files.pem,
  );
  openssl("x509", "-in", files.pem, "-outform", "DER", "-out", files.der);
  openssl("pkey", "-in", files.keyPem, "-outform", "DER", "-out", files.keyDer);
  return files;
}

/**
 * A server program in a process of its own, started by `launch(port)` and ready once it
 * printed its `{"port",…}` line: the fault helpers signal that process and `restart`
 * launches it again on the same port.
 */
export async function processServer(
  implementation: string,
  certificate: string,
  port: number,
  launch: () => { command: string; args: string[] },
): Promise<OpcuaTestServer> {
  const start = async (): Promise<Peer> => {
    const { command, args } = launch();
    return startPeer(command, args, { timeoutMs: 60_000 });
  };
  let peer = await start();
  let stderrBefore = "";
  return {
    implementation,
    port,
    endpoint: `opc.tcp://127.0.0.1:${port}`,
    certificate,
    get pid() {
      return peer.child.pid as number;
    },
    kill9: () => peer.stop(),
    pause: () => {
      peer.child.kill("SIGSTOP");
    },
    resume: () => {
      peer.child.kill("SIGCONT");
    },
    async restart() {
      await peer.stop();
      stderrBefore += peer.stderr();
      peer = await start();
    },
    stop: () => peer.stop(),
    stderr: () => stderrBefore + peer.stderr(),
  };
}
