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
import { connectError } from "./connect-error.js";
import { clientCertificateManager } from "./pki.js";

const OBJECTS_FOLDER = "ns=0;i=85";
const SERVER_OBJECT = "ns=0;i=2253";

/** The node-opcua side of `browse` (see browse.ts). */
export async function browseServer(endpoint: string, options: BrowseOptions): Promise<BrowseNode> {
  const mode = options.security?.mode ?? "None";
  const certificates = await clientCertificateManager(options.dataDir);
  const client = OPCUAClient.create({
    applicationName: "outpost-collector",
    clientCertificateManager: certificates,
    securityMode: MessageSecurityMode[mode],
    securityPolicy: mode === "None" ? SecurityPolicy.None : SecurityPolicy.Basic256Sha256,
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    transportTimeout: options.timeoutMs ?? 10_000,
  });
  try {
    await client.connect(endpoint);
  } catch (err) {
    await certificates.dispose();
    throw connectError(endpoint, options.dataDir, err as Error);
  }
  try {
    const session = await client.createSession();
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
