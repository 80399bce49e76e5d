import type { NodeChange, NodeChangeListener } from "./store.js";

/** The listeners of a store's `onNodeChanged`, told of each change in turn. */
export class NodeChangeFeed {
  private readonly listeners = new Set<NodeChangeListener>();

  subscribe(listener: NodeChangeListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(change: NodeChange): void {
    for (const listener of this.listeners) listener(change);
  }

  /** One change per node named, all committed at `at`. */
  emitNodes(nodes: Iterable<string>, at: number): void {
    for (const node of new Set(nodes)) this.emit({ node, at });
  }
}
