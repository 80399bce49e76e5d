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
  security?: { mode: "None" | "Sign" | "SignAndEncrypt" };
  timeoutMs?: number;
}

/**
 * The server's address space under Objects, as a tree of objects and variables.
 * node-opcua is loaded on the first call, not with the collector.
 */
export async function browse(endpoint: string, options: BrowseOptions): Promise<BrowseNode> {
  const { browseServer } = await import("./browse-session.js");
  return browseServer(endpoint, options);
}

/** The tree as indented text, one node per line: `name  nodeId  class`. */
export function formatTree(node: BrowseNode, indent = ""): string {
  const lines = [`${indent}${node.browseName}  ${node.nodeId}  ${node.nodeClass}`];
  for (const c of node.children) lines.push(formatTree(c, `${indent}  `));
  return lines.join("\n");
}
