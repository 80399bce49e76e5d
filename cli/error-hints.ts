/**
 * What a person can do about an error, by its stable `code`: printed after the message
 * on the one line a failed command writes. Codes without a hint print the code alone.
 */
export const ERROR_HINTS: Readonly<Record<string, string>> = {
  E_MASTER_UNREACHABLE:
    "is the master running? point --master (or OUTPOST_MASTER) at its HTTP address",
  E_MASTER_UNAUTHORIZED:
    "pass the master's admin.token with --token-file (or its content in OUTPOST_TOKEN)",
  E_MASTER_NOT_FOUND: "check the name on the status page or with `outpost node list`",
  E_MASTER_NO_CAPACITY:
    "free a partition (`outpost destroy`), add a node, or request without --no-wait to queue it",
  E_MASTER_CONFLICT: "see `outpost show NAME` for what holds it",
  E_MASTER_NATS_UNAVAILABLE:
    "is nats-server running with JetStream (-js)? check --nats, the login (--nats-token-file, OUTPOST_NATS_TOKEN or --nats-nkey-file) and TLS (--nats-ca; --nats-cert and --nats-key where the servers verify clients)",
  E_CONFIG: "fix that line of the file",
  E_AGENT_DATA_DIR: "fix the path or its mode, or choose another --data",
  E_AGENT_CONFIG: "fix the agent's settings (flags or --config)",
  E_NATIVE_MISSING: "run `npm install` (or `npm run build:native`) in the checkout",
  E_BUFFER_LOCKED: "another process has this buffer open; stop it first",
  E_RT_CPUSET_CONFLICT: "stop what holds those CPUs (a running `outpost demo`?), then retry",
  E_OPCUA_UNTRUSTED: "trust the server's certificate as the message says",
  E_OPCUA_CERT_REFUSED: "have the server trust the collector's certificate as the message says",
  E_OPCUA_ENDPOINT: "connect with a security mode and policy the server offers",
  EACCES: "run as a user allowed to do it (root for partitions and real time)",
  ENOENT: "check the path",
};

/** The one line a failed command prints: its message, its code and what to do. */
export function errorLine(message: string, code: string): string {
  const hint = ERROR_HINTS[code];
  return `${message} [${code}]${hint ? `; ${hint}` : ""}`;
}
