import { strict as assert } from "node:assert";
import { type FaultProxy, startFaultProxy } from "../../common/index.js";
import { collectorPipeline } from "../helpers/collector-pipeline.js";
import { collectPages } from "../helpers/record-chunks.js";
import { eventually } from "../helpers/until.js";

/**
 * The demo's pipeline (turbine simulator → collector instance in a partition → its
 * buffer → the agent's local API relay → master) under the two faults a wind farm's
 * uplink sees: the master killed with SIGKILL for 30 s and restarted, and the link
 * flapping all along. The simulator numbers every reading it serves; at the end the
 * master's store must hold each number exactly once.
 */
for (const store of ["sqlite", "postgres"] as const) {
  describe(`e2e fault: the demo pipeline with the master killed for 30 s and the link flapping (${store})`, function () {
    this.timeout(240_000);
    const pipeline = collectorPipeline(`pipeline-${store[0]}`, store);
    const flips: boolean[] = [];

    it("stores every sample the simulator served exactly once", async () => {
      await pipeline.startMaster();
      await pipeline.startCollector({
        seed: 3,
        masterEndpoint: async (endpoint) => {
          const port = Number(/:(\d+)$/.exec(endpoint)?.[1]);
          const link: FaultProxy = await startFaultProxy(
            { host: "127.0.0.1", port },
            { cycle: { upMs: 7000, downMs: 3000, onChange: (up) => flips.push(up) } },
          );
          pipeline.onCleanup(() => link.close());
          return link.endpoint;
        },
      });
      const sim = pipeline.sim;
      const image = sim.image;
      await eventually("samples flowing", 60_000, () =>
        image.samplesServed >= 20 ? true : undefined,
      );

      await pipeline.killMaster();
      const servedAtKill = image.samplesServed;
      await new Promise((r) => setTimeout(r, 30_000));
      assert.ok(image.samplesServed > servedAtKill + 50, "the collector kept sampling");
      await pipeline.startMaster();
      await new Promise((r) => setTimeout(r, 12_000));
      // The last sample is the one served before the simulator stops answering.
      await sim.stop();
      const served = image.samplesServed;

      const store = await pipeline.openStore();
      try {
        const stored = async () =>
          (await collectPages(store.readingPages({ tags: ["sample"], from: 0, to: 2 ** 52 }))).map(
            (r) => Number(r.value),
          );
        // The backlog drains after the last fault; then the checks below say what is wrong.
        let samples = await stored();
        for (let waited = 0; new Set(samples).size < served && waited < 90_000; waited += 1000) {
          await new Promise((r) => setTimeout(r, 1000));
          samples = await stored();
        }
        const counts = new Map<number, number>();
        for (const n of samples) counts.set(n, (counts.get(n) ?? 0) + 1);
        const twice = [...counts].filter(([, c]) => c > 1).map(([n]) => n);
        assert.deepEqual(twice, [], "samples stored more than once");
        const missing = Array.from({ length: served }, (_, i) => i + 1).filter(
          (n) => !counts.has(n),
        );
        assert.deepEqual(missing, [], "served samples missing at the master");
        assert.equal(samples.length, served);
        assert.deepEqual(await store.queryLosses({ stream: "telemetry" }), []);
      } finally {
        await store.close();
      }
      assert.ok(flips.filter((up) => !up).length >= 4, `the link went down ${flips.length} times`);
    });
  });
}
