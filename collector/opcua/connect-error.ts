import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  type EndpointDescription,
  MessageSecurityMode,
  OPCUAClient,
  SecurityPolicy,
  StatusCodes,
} from "node-opcua";
import {
  OpcuaCertificateRefusedError,
  OpcuaConnectionError,
  OpcuaEndpointError,
  OpcuaUntrustedCertificateError,
} from "../errors.js";
import { type CollectorCertificates, ownCertificateFile, rejectedDir, trustedDir } from "./pki.js";

export type SecurityMode = "None" | "Sign" | "SignAndEncrypt";

/** The policies the collector connects with, besides None (config-schema.ts). */
const POLICIES = new Set(["Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"]);

/** A mode and policy to ask for; policy is left out for mode None. */
export interface SecurityChoice {
  mode: SecurityMode;
  policy?: string;
}

/** One connection to a server, with what an error about it needs to say. */
export interface ConnectTarget {
  endpoint: string;
  dataDir: string;
  security: SecurityChoice;
  transportTimeoutMs: number;
  certificates: CollectorCertificates;
  /**
   * What to change to connect with `choice`, in the words the user sets it with (a
   * device's config keys, browse's flags); without a choice: to what the server offers.
   */
  advise(choice?: SecurityChoice): string;
  /** What to check when the server refuses the session's user identity. */
  identityAdvice: string;
}

/** The advice of a target that is a device of the collector's config: its `opcua.security` keys. */
export function adviseDeviceConfig(
  device: string,
): Pick<ConnectTarget, "advise" | "identityAdvice"> {
  return {
    advise(choice) {
      if (!choice) {
        return `set opcua.security.mode and .policy of device '${device}' to what the server offers`;
      }
      const policy = choice.policy ? `, policy: ${choice.policy}` : "";
      return `set opcua.security: { mode: ${choice.mode}${policy} } on device '${device}'`;
    },
    identityAdvice: `check opcua.security.user and password (or certificate and privateKey) of device '${device}'`,
  };
}

/** Statuses of a session refused for its user identity token. */
const IDENTITY_REFUSED =
  /BadUserAccessDenied|BadIdentityToken(Invalid|Rejected)|BadUserSignatureInvalid/;

/** Servers refuse a channel they offer no endpoint for with one of these. */
const SECURITY_REJECTED = new Set(["BadSecurityPolicyRejected", "BadSecurityModeRejected"]);

/**
 * A server that refuses the client's certificate says BadSecurityChecksFailed (OPC-UA
 * Part 4 asks servers to hide the reason; open62541 and node-opcua do) or, more
 * candidly, a BadCertificate… status.
 */
function refusesCertificate(status: string): boolean {
  return status === "BadSecurityChecksFailed" || status.startsWith("BadCertificate");
}

const STATUS_NAMES = new Map<number, string>(
  Object.values(StatusCodes).map((s) => [s.value, s.name]),
);

function statusName(value: number): string {
  return STATUS_NAMES.get(value) ?? `0x${value.toString(16).padStart(8, "0")}`;
}

/**
 * The status of the ERR message a server sends before it hangs up on a secure channel
 * it refuses: node-opcua logs it and rejects `connect` without it, yet it is the one
 * clue to why.
 */
function serverErrors(client: OPCUAClient): { status(): string | undefined; stop(): void } {
  let status: string | undefined;
  const onChunk = (chunk: Buffer) => {
    // "ERR" + 'F', message size, then the status code (Part 6, 7.1.2.5).
    if (chunk.length >= 12 && chunk.toString("latin1", 0, 3) === "ERR") {
      status = statusName(chunk.readUInt32LE(8));
    }
  };
  const channels: { off(event: "receive_chunk", listener: (chunk: Buffer) => void): void }[] = [];
  const onChannel: Parameters<typeof client.on<"secure_channel_created">>[1] = (channel) => {
    channel.on("receive_chunk", onChunk);
    channels.push(channel);
  };
  client.on("secure_channel_created", onChannel);
  return {
    status: () => status,
    stop() {
      client.off("secure_channel_created", onChannel);
      for (const c of channels) c.off("receive_chunk", onChunk);
    },
  };
}

function statusOf(err: Error): string | undefined {
  return (err as { statusCode?: { name?: string } }).statusCode?.name;
}

/** `client.connect`, a failure turned into a typed error that says what to do. */
export async function connectClient(client: OPCUAClient, target: ConnectTarget): Promise<void> {
  const watch = serverErrors(client);
  try {
    await client.connect(target.endpoint);
  } catch (err) {
    throw await connectError(target, err as Error, watch.status());
  } finally {
    watch.stop();
  }
}

/** A failed `createSession` on a connected client, as a typed error. */
export async function sessionError(target: ConnectTarget, err: Error): Promise<Error> {
  // node-opcua connects without checking the endpoint exists (endpointMustExist: false,
  // so that a server reachable under another host name works) and finds out here.
  if (/End point must exist/.test(err.message)) return endpointError(target);
  const reason = `session refused (${firstLine(err.message)})`;
  return new OpcuaConnectionError(
    target.endpoint,
    IDENTITY_REFUSED.test(err.message) ? `${reason}: ${target.identityAdvice}` : reason,
  );
}

async function connectError(
  target: ConnectTarget,
  err: Error,
  serverStatus: string | undefined,
): Promise<Error> {
  const text = err.message;
  const own = /server Certificate verification failed with err (\w+)/.exec(text);
  if (own) return serverCertificateError(target, own[1] as string);
  const status = statusOf(err) ?? serverStatus;
  if (status) return refusal(target, status);
  if (/Cannot find an Endpoint matching/.test(text)) return endpointError(target);
  if (/collect server's certificate/.test(text)) {
    // node-opcua fetched the server's certificate over an unsecured channel of a client
    // of its own and dropped that client's error: ask once more to learn why.
    const { status: again } = await discover(target);
    if (again && SECURITY_REJECTED.has(again)) {
      return new OpcuaConnectionError(
        target.endpoint,
        `the server refuses the unsecured channel a client fetches its certificate over (${again}): allow security None for discovery (GetEndpoints) on the server, as OPC-UA requires`,
      );
    }
    if (again) return refusal(target, again);
  }
  return new OpcuaConnectionError(target.endpoint, `cannot connect (${firstLine(text)})`);
}

async function refusal(target: ConnectTarget, status: string): Promise<Error> {
  if (SECURITY_REJECTED.has(status)) return endpointError(target);
  if (refusesCertificate(status)) {
    return new OpcuaCertificateRefusedError(
      target.endpoint,
      status,
      ownCertificateFile(target.dataDir),
    );
  }
  return new OpcuaConnectionError(target.endpoint, `cannot connect: the server said ${status}`);
}

/** The collector refused the server's certificate (node-opcua's verification). */
async function serverCertificateError(target: ConnectTarget, status: string): Promise<Error> {
  if (status !== "BadCertificateUntrusted") {
    return new OpcuaConnectionError(
      target.endpoint,
      `the server's certificate is not valid (${status}): the server needs a new one`,
    );
  }
  const rejected = rejectedDir(target.dataDir);
  const refused = target.certificates.refusedCertificate;
  const file = refused ? await savedAs(rejected, refused) : undefined;
  return new OpcuaUntrustedCertificateError(
    target.endpoint,
    trustedDir(target.dataDir),
    rejected,
    file,
  );
}

/** node-opcua names a refused certificate's file `<common name>[<SHA-1 thumbprint>].pem`. */
async function savedAs(dir: string, certificate: Buffer): Promise<string | undefined> {
  const thumbprint = createHash("sha1").update(leafOf(certificate)).digest("hex");
  const names = await readdir(dir).catch(() => [] as string[]);
  const name = names.find((n) => n.toLowerCase().includes(`[${thumbprint}]`));
  return name === undefined ? undefined : join(dir, name);
}

/** The first certificate of a DER chain (certificates concatenated, leaf first). */
function leafOf(der: Buffer): Buffer {
  const first = der[1] ?? 0;
  if (first < 0x80) return der.subarray(0, 2 + first);
  const n = first & 0x7f;
  return der.subarray(0, 2 + n + der.readUIntBE(2, n));
}

async function endpointError(target: ConnectTarget): Promise<Error> {
  const requested = choiceText(target.security);
  const { endpoints } = await discover(target);
  if (!endpoints) {
    return new OpcuaEndpointError(target.endpoint, requested, undefined, target.advise());
  }
  const offered = [...new Set(endpoints.map((e) => choiceText(choiceOf(e))))];
  const usable = endpoints
    .filter((e) => e.securityMode === MessageSecurityMode.None || POLICIES.has(policyOf(e)))
    // The server's own ranking; encrypting before signing only where it ranks them alike.
    .sort((a, b) => b.securityLevel - a.securityLevel || b.securityMode - a.securityMode);
  const best = usable[0];
  const advice = best
    ? target.advise(choiceOf(best))
    : `none of them is one the collector speaks (None, ${[...POLICIES].join(", ")})`;
  return new OpcuaEndpointError(target.endpoint, requested, offered, advice);
}

function policyOf(e: EndpointDescription): string {
  return (e.securityPolicyUri ?? "").split("#").pop() ?? "";
}

function choiceOf(e: EndpointDescription): SecurityChoice {
  const mode = MessageSecurityMode[e.securityMode] as SecurityMode;
  return mode === "None" ? { mode } : { mode, policy: policyOf(e) };
}

function choiceText(c: SecurityChoice): string {
  return c.mode === "None" ? "None" : `${c.mode}/${c.policy}`;
}

/**
 * The server's endpoints, asked for over an unsecured channel (OPC-UA servers answer
 * GetEndpoints there even without a None endpoint), or the status it refused with.
 */
async function discover(
  target: ConnectTarget,
): Promise<{ endpoints?: EndpointDescription[]; status?: string }> {
  const client = OPCUAClient.create({
    applicationName: "outpost-collector",
    clientCertificateManager: target.certificates,
    certificateFile: ownCertificateFile(target.dataDir),
    securityMode: MessageSecurityMode.None,
    securityPolicy: SecurityPolicy.None,
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    transportTimeout: target.transportTimeoutMs,
  });
  const watch = serverErrors(client);
  try {
    await client.connect(target.endpoint);
    return { endpoints: await client.getEndpoints() };
  } catch (err) {
    return { status: statusOf(err as Error) ?? watch.status() };
  } finally {
    watch.stop();
    await client.disconnect().catch(() => {});
  }
}

function firstLine(text: string): string {
  return (text.split("\n")[0] ?? text).trim();
}
