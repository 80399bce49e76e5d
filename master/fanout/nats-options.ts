import { nkeys } from "@nats-io/transport-node";
import { InvalidRequestError } from "../errors.js";

/** NATS's own default client port. */
const DEFAULT_PORT = 4222;

/**
 * How to log in to NATS, and TLS; the CLI reads each secret from a file (0600), never
 * from argv. At most one of `token` and `nkeySeed`.
 */
export interface NatsLogin {
  /** A token (`nats-server --auth`, `authorization { token }`). */
  token?: string;
  /**
   * A user nkey's seed (`SU…`, as `nsc` or `nk -gen user` write it), for servers that list
   * users by nkey (`authorization { users = [{ nkey: U… }] }`): the server sends a
   * challenge the seed signs, so no secret crosses the wire.
   */
  nkeySeed?: string;
  /**
   * TLS to every server, verified against `ca` (PEM; the system's CAs when absent); `cert`
   * and `key` (PEM) for servers that verify clients (`tls { verify: true }`).
   */
  tls?: { ca?: string; cert?: string; key?: string };
}

/** Where the fan-out's NATS servers are and how to log in (`--nats`, the login flags). */
export interface NatsOptions extends NatsLogin {
  /** `HOST:PORT` of each server of the cluster, as `--nats` gave them. */
  servers: string[];
}

/** The login fields of `options` that are set, for a connection's options. */
export function natsLoginOf(options: NatsLogin): NatsLogin {
  return {
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.nkeySeed !== undefined ? { nkeySeed: options.nkeySeed } : {}),
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
  };
}

/**
 * Whether `text` is a user nkey seed: `SU`, base32, its CRC right. Throws
 * E_MASTER_INVALID naming `where` (never the seed) when it is not.
 */
export function checkNkeySeed(text: string, where: string): void {
  let valid = /^SU[A-Z2-7]{56}$/.test(text);
  if (valid)
    try {
      nkeys.fromSeed(new TextEncoder().encode(text));
    } catch {
      valid = false;
    }
  if (!valid)
    throw new InvalidRequestError(
      `${where} does not hold a NATS user nkey seed (one line, SU followed by 56 base32 characters)`,
    );
}

/**
 * `--nats`'s value, `nats://HOST[:PORT]` or several of them comma-separated (the servers
 * of one cluster), into `HOST:PORT`s. Pure; E_MASTER_INVALID naming `flag` for anything
 * else, and for a URL holding credentials: argv is visible to every user in `ps`.
 */
export function parseNatsServers(text: string, flag = "--nats"): string[] {
  return text.split(",").map((part) => {
    const url = part.trim();
    const m = /^nats:\/\/([^/?#]*)$/.exec(url);
    if (m && (m[1] ?? "").includes("@"))
      throw new InvalidRequestError(
        `${flag}: the URL must not hold credentials (they would show in ps); give a token or nkey seed in a file (--nats-token-file, --nats-nkey-file), or a token in OUTPOST_NATS_TOKEN`,
      );
    const hostPort = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*)(?::(\d{1,5}))?$/.exec(
      m?.[1] ?? "",
    );
    const port = hostPort?.[2] === undefined ? DEFAULT_PORT : Number(hostPort[2]);
    if (!hostPort || port < 1 || port > 65535)
      throw new InvalidRequestError(
        `${flag}: expected nats://HOST:PORT (e.g. nats://127.0.0.1:4222), comma-separated for a cluster, got '${text}'`,
      );
    return `${hostPort[1]}:${port}`;
  });
}
