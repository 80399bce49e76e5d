import type { MasterStore, StoredChunk, StoreOptions } from "../../../master/index.js";
import { generateKeyPair } from "../../../protocol/index.js";

/** What every conformance case gets: the store under test (fresh per case) and helpers. */
export interface StoreCase {
  store: MasterStore;
  /** Closes the store and opens the same data again, as a master restart does (with `options`). */
  reopen(options?: StoreOptions): Promise<MasterStore>;
  /** Adds a node (and its hello facts unless `registered` is false); returns its key. */
  node(name: string, registered?: boolean): Promise<string>;
}

export async function addNode(
  store: MasterStore,
  name: string,
  registered: boolean,
): Promise<string> {
  const key = generateKeyPair().publicKey;
  await store.addNode(name, key, 100);
  if (registered) await store.registerNode(name, facts, 200);
  return key;
}

export const facts = {
  agentVersion: "0.1.0",
  arch: "x64",
  board: "generic-x86",
  cpus: 4,
  partitions: 2,
  isolatedCores: [2, 3],
};
export const echo = "https://example.org/echo/software.yaml";
export const kv = "https://example.org/kv/software.yaml";

export function chunk(
  node: string,
  chunkId: number,
  overrides: Partial<StoredChunk> = {},
): StoredChunk {
  return {
    node,
    chunkId,
    stream: "turbine",
    schema: Buffer.from([9, 9]),
    createdAt: 1_000,
    firstSeq: chunkId * 10,
    lastSeq: chunkId * 10 + 9,
    records: 10,
    compression: "none",
    body: Buffer.from(`chunk ${chunkId}`),
    receivedAt: 2_000 + chunkId,
    ...overrides,
  };
}
