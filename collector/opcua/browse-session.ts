import {
  BrowseDirection,
  type ClientSession,
  MessageSecurityMode,
  NodeClass,
  NodeClassMask,
  OPCUAClient,
  type ReferenceDescription,
  SecurityPolicy,
} from "node-opcua";
import type { BrowseNode, BrowseOptions } from "./browse-tree.js";
import {
  type ConnectTarget,
  connectClient,
  type SecurityChoice,
  sessionError,
} from "./connect-error.js";
import { clientCertificateManager, ownCertificateFile } from "./pki.js";

const OBJECTS_FOLDER = "ns=0;i=85";
const SERVER_OBJECT = "ns=0;i=2253";

/** The node-opcua side of `browse` (see browse.ts). */
export async function browseServer(endpoint: string, options: BrowseOptions): Promise<BrowseNode> {
  const mode = options.security?.mode ?? "None";
  const policy = options.security?.policy ?? "Basic256Sha256";
  const timeoutMs = options.timeoutMs ?? 10_000;
  const certificates = await clientCertificateManager(options.dataDir);
  const client = OPCUAClient.create({
    applicationName: "outpost-collector",
    clientCertificateManager: certificates,
    certificateFile: ownCertificateFile(options.dataDir),
    securityMode: MessageSecurityMode[mode],
    securityPolicy:
      mode === "None" ? SecurityPolicy.None : SecurityPolicy[policy as keyof typeof SecurityPolicy],
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    transportTimeout: timeoutMs,
  });
  const target: ConnectTarget = {
    endpoint,
    dataDir: options.dataDir,
    security: mode === "None" ? { mode } : { mode, policy },
    transportTimeoutMs: timeoutMs,
    certificates,
    advise: adviseFlags,
    identityAdvice:
      "browse connects anonymously; read the tags with `collector read --once` and a device that has opcua.security.user and password",
  };
  try {
    await connectClient(client, target);
  } catch (err) {
    await certificates.dispose();
    throw err;
  }
  try {
    let session: ClientSession;
    try {
      session = await client.createSession();
    } catch (err) {
      throw await sessionError(target, err as Error);
    }
    const root: BrowseNode = {
      nodeId: OBJECTS_FOLDER,
      browseName: "Objects",
      nodeClass: "Object",
      children: [],
    };
    await expand(session, root, options.depth);
    await session.close();
    return root;
  } finally {
    await client.disconnect();
    await certificates.dispose();
  }
}

function adviseFlags(choice?: SecurityChoice): string {
  if (!choice) return "pass the --security-mode and --security-policy the server offers";
  return `pass --security-mode ${choice.mode}${choice.policy ? ` --security-policy ${choice.policy}` : ""}`;
}

async function expand(session: ClientSession, node: BrowseNode, depth: number): Promise<void> {
  if (depth <= 0) return;
  const result = await session.browse({
    nodeId: node.nodeId,
    browseDirection: BrowseDirection.Forward,
    referenceTypeId: "HierarchicalReferences",
    includeSubtypes: true,
    nodeClassMask: NodeClassMask.Object | NodeClassMask.Variable,
    resultMask: 63,
  });
  for (const ref of (result.references ?? []) as ReferenceDescription[]) {
    const nodeId = ref.nodeId.toString();
    if (nodeId === SERVER_OBJECT) continue;
    const child: BrowseNode = {
      nodeId,
      browseName: ref.browseName.toString(),
      nodeClass: NodeClass[ref.nodeClass] ?? String(ref.nodeClass),
      children: [],
    };
    node.children.push(child);
    await expand(session, child, depth - 1);
  }
}
