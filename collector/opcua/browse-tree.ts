/** The tree `browse` returns and its text form; node-opcua stays out of this file. */
export interface BrowseNode {
  nodeId: string;
  browseName: string;
  nodeClass: string;
  children: BrowseNode[];
}

export interface BrowseOptions {
  dataDir: string;
  /** Levels below the Objects folder; the standard Server object is left out. */
  depth: number;
  /** Mode and policy to connect with (`None` by default; policy `Basic256Sha256` by default). */
  security?: { mode: "None" | "Sign" | "SignAndEncrypt"; policy?: string };
  timeoutMs?: number;
}

/** The tree as indented text, one node per line: `name  nodeId  class`. */
export function formatTree(node: BrowseNode, indent = ""): string {
  const lines = [`${indent}${node.browseName}  ${node.nodeId}  ${node.nodeClass}`];
  for (const c of node.children) lines.push(formatTree(c, `${indent}  `));
  return lines.join("\n");
}
