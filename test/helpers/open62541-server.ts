import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import {
  makeCertificate,
  type OpcuaTestServer,
  type OpcuaTestServerOptions,
  processServer,
  SERVER_APPLICATION_URI,
} from "./opcua-test-server.js";
import { repoRoot } from "./run-outpost.js";

const SOURCE = join(repoRoot, "test", "fixtures", "opcua", "open62541-server.c");

/** `../shared/peers` beside the repository, or `OUTPOST_PEERS`. */
export function peersDir(): string {
  return process.env.OUTPOST_PEERS ?? join(repoRoot, "..", "shared", "peers");
}

/**
 * The open62541 server program (test/fixtures/opcua/open62541-server.c), compiled with
 * the peers' `open62541/build` once per source: the binary is cached under the tmp dir,
 * keyed on the hash of the source and the build script, so later runs start at once (the
 * library itself is compiled once, ~40 s, into the build script's own cache).
 */
export function open62541Binary(): string {
  const build = join(peersDir(), "open62541", "build");
  if (!existsSync(build)) {
    throw new Error(
      `${build} is missing: the open62541 peer lives in ../shared/peers (or OUTPOST_PEERS)`,
    );
  }
  const key = createHash("sha256")
    .update(readFileSync(SOURCE))
    .update(readFileSync(build))
    .digest("hex")
    .slice(0, 16);
  const dir = join(tmpdir(), "outpost-open62541", key);
  const binary = join(dir, "open62541-server");
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  // Built beside and renamed: a concurrent run never starts a half-written binary.
  const partial = `${binary}.${process.pid}`;
  execFileSync("sh", [build, SOURCE, partial], { stdio: "pipe", timeout: 300_000 });
  renameSync(partial, binary);
  return binary;
}

/**
 * Starts the open62541 server program on a free loopback port (or `options.port`) with
 * its state and certificate in `options.dir`; resolves once it listens.
 */
export async function startOpen62541Server(
  options: OpcuaTestServerOptions,
): Promise<OpcuaTestServer> {
  const binary = open62541Binary();
  const port = options.port ?? (await freePort());
  const cert = makeCertificate(options.dir, "server", SERVER_APPLICATION_URI);
  const args = ["--port", String(port), "--state", join(options.dir, "counter")];
  if (options.secure) args.push("--cert", cert.der, "--key", cert.keyDer);
  if (options.noNone) args.push("--no-none");
  for (const file of options.trust ?? []) args.push("--trust", file);
  for (const [user, password] of Object.entries(options.users ?? {})) {
    args.push("--user", `${user}:${password}`);
  }
  for (const file of options.userCertificates ?? []) args.push("--user-cert", file);
  return processServer("open62541", cert.pem, port, () => ({ command: binary, args }));
}
