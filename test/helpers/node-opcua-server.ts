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

const PROGRAM = join(repoRoot, "test", "fixtures", "opcua", "node-opcua-server.ts");

/**
 * Starts node-opcua's contract server (test/fixtures/opcua/node-opcua-server.ts, the
 * address space of the open62541 program) in a process of its own on a free loopback
 * port (or `options.port`); resolves once it listens.
 */
export async function startNodeOpcuaServer(
  options: OpcuaTestServerOptions,
): Promise<OpcuaTestServer> {
  const port = options.port ?? (await freePort());
  const certificate = makeCertificate(options.dir, "server", SERVER_APPLICATION_URI);
  const argv = JSON.stringify({ ...options, port, certificate });
  return processServer("node-opcua", certificate.pem, port, () => ({
    command: process.execPath,
    args: ["--import", "tsx", PROGRAM, argv],
  }));
}
