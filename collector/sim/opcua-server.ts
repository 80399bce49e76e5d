import { join } from "node:path";
import {
  DataType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  type UAObject,
  Variant,
  VariantArrayType,
} from "node-opcua";
import type { TurbineState } from "./turbine-model.js";

export interface OpcuaSimOptions {
  port: number;
  /** Holds the server's PKI (own certificate, trusted client certificates). */
  dataDir: string;
  /** Extra Double variables `ns=1;s=Tag.<i>` (for the bench), 0 by default. */
  extraTags?: number;
  /** Signals left out of the address space (tests: node ids that vanish after a restart). */
  omit?: readonly string[];
  /** Cap on monitored items per subscription (tests: BadTooManyMonitoredItems). */
  maxMonitoredItemsPerSubscription?: number;
  /** Offer only these security modes; all three by default. */
  securityModes?: ("None" | "Sign" | "SignAndEncrypt")[];
  /** user → password; anonymous access is refused when set. */
  users?: Record<string, string>;
}

/** The turbine's OPC-UA node ids: `ns=1;s=<name>`. */
export const OPCUA_SIGNALS = {
  WindSpeed: (s: TurbineState) => new Variant({ dataType: DataType.Double, value: s.windSpeed }),
  RotorRpm: (s: TurbineState) => new Variant({ dataType: DataType.Double, value: s.rotorRpm }),
  Power: (s: TurbineState) => new Variant({ dataType: DataType.Double, value: s.powerKw }),
  Pitch: (s: TurbineState) => new Variant({ dataType: DataType.Double, value: s.pitchDeg }),
  NacelleTemp: (s: TurbineState) =>
    new Variant({ dataType: DataType.Double, value: s.nacelleTempC }),
  Vibration: (s: TurbineState) => new Variant({ dataType: DataType.Double, value: s.vibrationMmS }),
  Alarms: (s: TurbineState) => new Variant({ dataType: DataType.UInt16, value: s.alarms }),
  Running: (s: TurbineState) => new Variant({ dataType: DataType.Boolean, value: s.running }),
  EnergyWh: (s: TurbineState) =>
    new Variant({
      dataType: DataType.UInt64,
      arrayType: VariantArrayType.Scalar,
      value: [Number(s.energyWh >> 32n), Number(s.energyWh & 0xffffffffn)],
    }),
} as const;

/** Starts a node-opcua server whose variables read the turbine's current state. */
export async function startOpcuaSim(
  state: () => TurbineState,
  options: OpcuaSimOptions,
): Promise<{ server: OPCUAServer; port: number; endpoint: string }> {
  const pki = (name: string) =>
    new OPCUACertificateManager({
      rootFolder: join(options.dataDir, name),
      automaticallyAcceptUnknownCertificate: true,
    });
  const modes = options.securityModes ?? ["None", "Sign", "SignAndEncrypt"];
  const server = new OPCUAServer({
    port: options.port,
    hostname: "127.0.0.1",
    alternateHostname: ["127.0.0.1"],
    serverCertificateManager: pki("server-pki"),
    userCertificateManager: pki("user-pki"),
    securityModes: modes.map((m) => MessageSecurityMode[m]),
    securityPolicies: modes.includes("None")
      ? [SecurityPolicy.None, SecurityPolicy.Basic256Sha256]
      : [SecurityPolicy.Basic256Sha256],
    allowAnonymous: options.users === undefined,
    userManager: options.users
      ? { isValidUser: (user: string, password: string) => options.users?.[user] === password }
      : undefined,
    serverCapabilities: options.maxMonitoredItemsPerSubscription
      ? { maxMonitoredItemsPerSubscription: options.maxMonitoredItemsPerSubscription }
      : undefined,
    buildInfo: { productName: "outpost turbine simulator" },
    disableDiscovery: true,
  });
  await server.initialize();
  const addressSpace = server.engine.addressSpace;
  if (!addressSpace) throw new Error("OPC-UA server has no address space");
  const ns = addressSpace.getOwnNamespace();
  const turbine: UAObject = ns.addObject({
    organizedBy: addressSpace.rootFolder.objects,
    browseName: "Turbine",
  });
  const omit = new Set(options.omit ?? []);
  for (const [name, variant] of Object.entries(OPCUA_SIGNALS)) {
    if (omit.has(name)) continue;
    ns.addVariable({
      componentOf: turbine,
      browseName: name,
      nodeId: `s=${name}`,
      dataType: variant(state()).dataType,
      minimumSamplingInterval: 50,
      value: { get: () => variant(state()) },
    });
  }
  if (options.extraTags) {
    const tags = ns.addObject({ organizedBy: turbine, browseName: "Tags" });
    for (let i = 0; i < options.extraTags; i++) {
      ns.addVariable({
        componentOf: tags,
        browseName: `Tag.${i}`,
        nodeId: `s=Tag.${i}`,
        dataType: "Double",
        minimumSamplingInterval: 50,
        value: {
          get: () => new Variant({ dataType: DataType.Double, value: state().step + i }),
        },
      });
    }
  }
  await server.start();
  const port = Number(server.endpoints[0]?.port ?? options.port);
  return { server, port, endpoint: `opc.tcp://127.0.0.1:${port}` };
}
