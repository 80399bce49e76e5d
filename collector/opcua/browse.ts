import type { BrowseNode, BrowseOptions } from "./browse-tree.js";

/**
 * The server's address space under Objects, as a tree of objects and variables.
 * node-opcua is loaded on the first call, not with the collector.
 */
export async function browse(endpoint: string, options: BrowseOptions): Promise<BrowseNode> {
  const { browseServer } = await import("./browse-session.js");
  return browseServer(endpoint, options);
}
