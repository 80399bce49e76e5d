import type { MasterStore, StoreOptions } from "../../master/index.js";
import { addNode, type StoreCase } from "./store-conformance/case.js";
import { hostileTextCases } from "./store-conformance/hostile-text.js";
import { instanceCases } from "./store-conformance/instances.js";
import { nodeChangeCases } from "./store-conformance/node-changes.js";
import { nodeCases } from "./store-conformance/nodes.js";
import { outboxCases } from "./store-conformance/outbox.js";
import { readingsCases } from "./store-conformance/readings.js";
import { reopenCases } from "./store-conformance/reopen.js";
import { retentionCases } from "./store-conformance/retention.js";
import { telemetryCases } from "./store-conformance/telemetry.js";

/**
 * The contract every MasterStore backend must meet, run against each of them
 * (sqlite-store.test.ts, postgres-store.test.ts). `reopen` closes the store and opens the
 * same data again, as a master restart does, with `options` (a retention policy) when given.
 */
export interface StoreFixture {
  store: MasterStore;
  reopen(options?: StoreOptions): Promise<MasterStore>;
  cleanup(): Promise<void>;
}

export function storeConformance(backend: string, open: () => Promise<StoreFixture>): void {
  describe(`MasterStore conformance: ${backend}`, () => {
    let f: StoreFixture;
    const c = {
      reopen: async (options?: StoreOptions) => {
        c.store = await f.reopen(options);
        return c.store;
      },
      node: (name: string, registered = true) => addNode(c.store, name, registered),
    } as StoreCase;
    beforeEach(async () => {
      f = await open();
      c.store = f.store;
    });
    afterEach(async () => {
      await c.store.close();
      await f.cleanup();
    });

    nodeCases(c);
    instanceCases(c);
    nodeChangeCases(c);
    telemetryCases(c);
    readingsCases(c);
    hostileTextCases(c);
    retentionCases(c);
    outboxCases(c);
    reopenCases(c);
  });
}
