/**
 * A node-opcua server with one endpoint, SignAndEncrypt with Basic256Sha256 (security
 * None answers discovery only, as OPC-UA asks of servers), that trusts no client
 * certificate until one is copied into its `trustedDir`: the peer of the connect-error
 * tests. argv[2]: JSON { dataDir }. Prints {"port","endpoint","trustedDir"} once it serves.
 */
// First: node-opcua's console output goes to stderr, never to the stdout line read as hello.
import "../../../collector/opcua/library-logs.js";
import { join } from "node:path";
import {
  DataType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  Variant,
} from "node-opcua";

const { dataDir } = JSON.parse(process.argv[2] ?? "{}") as { dataDir: string };

const pki = (name: string) =>
  new OPCUACertificateManager({
    rootFolder: join(dataDir, name),
    automaticallyAcceptUnknownCertificate: false,
  });
const server = new OPCUAServer({
  port: 0,
  hostname: "127.0.0.1",
  alternateHostname: ["127.0.0.1"],
  serverCertificateManager: pki("server-pki"),
  userCertificateManager: pki("user-pki"),
  securityModes: [MessageSecurityMode.SignAndEncrypt],
  securityPolicies: [SecurityPolicy.Basic256Sha256],
  // Keeps the None channel for GetEndpoints while no None endpoint is offered.
  disableDiscovery: false,
});
await server.initialize();
const addressSpace = server.engine.addressSpace;
if (!addressSpace) throw new Error("no address space");
const ns = addressSpace.getOwnNamespace();
ns.addVariable({
  organizedBy: addressSpace.rootFolder.objects,
  browseName: "Secret",
  nodeId: "s=Secret",
  dataType: "Double",
  value: { get: () => new Variant({ dataType: DataType.Double, value: 42 }) },
});
await server.start();
const port = Number(server.endpoints[0]?.port);
process.stdout.write(
  `${JSON.stringify({
    port,
    endpoint: `opc.tcp://127.0.0.1:${port}`,
    trustedDir: join(dataDir, "server-pki", "trusted", "certs"),
  })}\n`,
);
process.on("SIGTERM", () => {
  void server.shutdown().then(() => process.exit(0));
});
