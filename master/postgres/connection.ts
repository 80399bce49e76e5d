import postgres from "postgres";
import { InvalidRequestError, StoreUnavailableError } from "../errors.js";

/** Connections the store keeps: ingest, placement and API queries run side by side. */
const POOL = 10;

export interface Connection {
  sql: postgres.Sql;
  /** The server's unix socket or host:port, for messages (never the password). */
  where: string;
}

/**
 * A pool to the database of `url` (`postgres://USER@HOST[:PORT]/DB`, a unix socket as
 * `?host=/dir`; no password in it: `checkStoreUrl`). postgres.js takes the password from
 * PGPASSWORD, else the password file (PGPASSFILE, else ~/.pgpass, used only when not
 * readable by group or others, as libpq does). Connects lazily: the first statement finds
 * a server that cannot be reached (see `unavailable`).
 */
export function connect(url: string): Connection {
  checkStoreUrl(url);
  let sql: postgres.Sql;
  try {
    sql = postgres(url, {
      max: POOL,
      connect_timeout: 10,
      onnotice: () => {},
      // Readings are read by page; a connection idle this long is given back.
      idle_timeout: 60,
      // After the server is lost, seconds before connecting again (the pool, and LISTEN):
      // doubling from 0.1 s to at most 2 s, jittered, so a master is back within about 2 s
      // of its database (postgres.js's own default grows to 20 s).
      backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(0.1 * 2 ** retries, 2),
    });
  } catch (err) {
    throw new InvalidRequestError(`--store: ${(err as Error).message}`);
  }
  const o = sql.options;
  const where = o.path ? String(o.path) : `${o.host[0]}:${o.port[0]}`;
  return { sql, where };
}

/**
 * A `postgres://` URL without a password, else E_MASTER_INVALID naming --store: it comes
 * from the command line, where every user of the machine sees it in `ps`.
 */
export function checkStoreUrl(url: string): void {
  const m = /^postgres(?:ql)?:\/\/([^/?#]*)/.exec(url);
  if (!m) throw new InvalidRequestError(`--store: expected postgres://USER@HOST/DB, got '${url}'`);
  const authority = m[1] ?? "";
  const at = authority.lastIndexOf("@");
  if (at >= 0 && authority.slice(0, at).includes(":"))
    throw new InvalidRequestError(
      "--store: the URL must not hold a password (it would show in ps); set PGPASSWORD, or put it in PGPASSFILE or ~/.pgpass",
    );
}

/** Errors of reaching or logging in to the server (not of a statement). */
const UNAVAILABLE = new Set([
  "ECONNREFUSED",
  "ENOENT",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EACCES",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "SASL_SIGNATURE_MISMATCH",
  "AUTH_TYPE_NOT_IMPLEMENTED",
  "28000", // invalid authorization
  "28P01", // password authentication failed
  "3D000", // no such database
  "57P03", // the server is starting up or shutting down
]);

/** The error of a failed connection as StoreUnavailableError; others unchanged. */
export function unavailable(err: unknown, where: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !UNAVAILABLE.has(code)) return err;
  const reason = (err as Error).message;
  const hint = code.startsWith("28")
    ? "; the password comes from PGPASSWORD, PGPASSFILE or ~/.pgpass"
    : "";
  return new StoreUnavailableError(where, `${reason}${hint}`);
}
