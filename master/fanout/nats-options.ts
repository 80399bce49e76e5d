import { InvalidRequestError } from "../errors.js";

/** NATS's own default client port. */
const DEFAULT_PORT = 4222;

/** Where the fan-out's NATS servers are and how to log in (`--nats`, the token file). */
export interface NatsOptions {
  /** `HOST:PORT` of each server of the cluster, as `--nats` gave them. */
  servers: string[];
  /** A token (`nats-server --auth`, `authorization { token }`), read from a file by the CLI. */
  token?: string;
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
        `${flag}: the URL must not hold credentials (they would show in ps); put a token in a file given by --nats-token-file, or in OUTPOST_NATS_TOKEN`,
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
