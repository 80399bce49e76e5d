import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { freePort } from "./free-port.js";
import { eventually } from "./until.js";

/** Debian's `postgresql` (see .ci/debian-packages): the newest major installed. */
const BIN = (() => {
  const majors = existsSync("/usr/lib/postgresql")
    ? readdirSync("/usr/lib/postgresql").filter((m) => /^\d+$/.test(m))
    : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest)
    throw new Error("PostgreSQL is not installed (Debian postgresql: .ci/install-peers)");
  return `/usr/lib/postgresql/${newest}/bin`;
})();
/** The role the store under test connects as; its password is only in the password file. */
export const TEST_ROLE = "outpost";

export interface PostgresServer {
  /** The server's unix socket directory (`host` of the URLs). */
  socketDir: string;
  port: number;
  /** A password file (0600) holding the test role's password, for PGPASSFILE. */
  passfile: string;
  /** The test role's password (for tests of PGPASSWORD). */
  password: string;
  /** `postgres://outpost@/NAME?host=…&port=…`: no password in it. */
  url(database: string): string;
  /** A fresh, empty database owned by the test role; returns its URL. */
  createDatabase(): Promise<{ name: string; url: string }>;
  /** Drops a database, closing whatever is still connected to it. */
  dropDatabase(name: string): Promise<void>;
  /** A superuser connection to `database` (for tests that reach under the store). */
  admin(database: string): postgres.Sql;
  /** Stops the server process (fast shutdown: clients are cut off), keeping its data. */
  halt(): Promise<void>;
  /** Starts it again after `halt`, on the same socket; resolves once it takes connections. */
  resume(): Promise<void>;
  /** Stops the server and removes its directories. */
  stop(): Promise<void>;
}

/**
 * A PostgreSQL server of its own for one test file: `initdb` into a fresh temp directory
 * owned by the Debian `postgres` account (the binaries run as that user: PostgreSQL
 * refuses root), listening only on a unix socket in that directory (`listen_addresses`
 * empty, its own free port naming the socket), fsync off. The superuser connects by
 * trust over the socket; the test role needs its password (scram), so tests go through
 * the same password lookup as a real master. Nothing outside the temp directory changes.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }));
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }));
  const dir = mkdtempSync(join(tmpdir(), "outpost-pg-"));
  chownSync(dir, uid, gid);
  const data = join(dir, "data");
  const socketDir = join(dir, "socket");
  mkdirSync(socketDir, { mode: 0o700 });
  chownSync(socketDir, uid, gid);
  const asPostgres = { uid, gid, env: { PATH: process.env.PATH, LANG: "C.UTF-8" } };
  let server: ChildProcess | undefined;
  const admins: postgres.Sql[] = [];
  const halt = async (): Promise<void> => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server?.once("exit", resolve));
      server.kill("SIGINT"); // fast shutdown
      await exited;
    }
  };
  const stop = async (): Promise<void> => {
    await Promise.all(admins.map((a) => a.end({ timeout: 1 })));
    await halt();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    execFileSync(
      `${BIN}/initdb`,
      ["-D", data, "-U", "postgres", "-E", "UTF8", "--locale=C", "--auth-local=trust"],
      { ...asPostgres, stdio: "pipe" },
    );
    // Only the superuser by trust; every other role by password.
    writeFileSync(
      join(data, "pg_hba.conf"),
      "local all postgres trust\nlocal all all scram-sha-256\n",
    );
    const port = await freePort();
    let log = "";
    const spawnServer = (): ChildProcess => {
      const child = spawn(
        `${BIN}/postgres`,
        [
          "-D",
          data,
          "-k",
          socketDir,
          "-p",
          String(port),
          "-c",
          "listen_addresses=",
          "-c",
          "fsync=off",
          "-c",
          "full_page_writes=off",
          "-c",
          "max_connections=200",
        ],
        { ...asPostgres, stdio: ["ignore", "ignore", "pipe"] },
      );
      child.stderr?.on("data", (b: Buffer) => {
        log = (log + b.toString()).slice(-4000);
      });
      return child;
    };
    server = spawnServer();
    const su = (database: string): postgres.Sql => {
      const sql = postgres({
        path: join(socketDir, `.s.PGSQL.${port}`),
        user: "postgres",
        database,
        max: 2,
        onnotice: () => {},
      });
      admins.push(sql);
      return sql;
    };
    const root = su("postgres");
    const accepting = () =>
      eventually("postgres accepting connections", 20_000, async () => {
        if (server?.exitCode !== null) throw new Error(`postgres exited: ${log}`);
        return root`SELECT 1`.then(
          () => true,
          () => undefined,
        );
      });
    await accepting();
    const password = randomBytes(12).toString("hex");
    await root.unsafe(`CREATE ROLE ${TEST_ROLE} LOGIN PASSWORD '${password}'`);
    const passfile = join(dir, "pgpass");
    writeFileSync(passfile, `localhost:${port}:*:${TEST_ROLE}:${password}\n`, { mode: 0o600 });
    const url = (database: string) =>
      `postgres://${TEST_ROLE}@/${database}?host=${encodeURIComponent(socketDir)}&port=${port}`;
    let next = 0;
    return {
      socketDir,
      port,
      passfile,
      password,
      url,
      async createDatabase() {
        const name = `case_${++next}`;
        await root.unsafe(`CREATE DATABASE ${name} OWNER ${TEST_ROLE}`);
        return { name, url: url(name) };
      },
      async dropDatabase(name) {
        await root.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      },
      admin: su,
      halt,
      async resume() {
        server = spawnServer();
        await accepting();
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Points this process's PGPASSFILE at `file` (the store finds a password where a master
 * would); returns the function that puts back what was there.
 */
export function usePassfile(file: string): () => void {
  const saved = process.env.PGPASSFILE;
  process.env.PGPASSFILE = file;
  return () => {
    if (saved === undefined) delete process.env.PGPASSFILE;
    else process.env.PGPASSFILE = saved;
  };
}
