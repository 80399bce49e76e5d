import { strict as assert } from "node:assert";
import { join } from "node:path";
import type { ReadingsAnswer } from "../../master/index.js";
import { collectorPipeline } from "../helpers/collector-pipeline.js";
import { runOutpostAsync } from "../helpers/run-outpost.js";
import { eventually } from "../helpers/until.js";

/**
 * The acceptance of the readings model (issue 26): the demo's pipeline (turbine
 * simulator → collector in a partition → buffer → agent relay → master) with the master
 * killed by SIGKILL and started again. Afterwards `outpost telemetry readings` returns
 * every sample the simulator served exactly once (it numbers them in register 16), with
 * gaps only where losses were reported, and a window read before the kill reads the same.
 */
for (const store of ["sqlite", "postgres"] as const) {
  describe(`e2e: readings survive a master killed with SIGKILL, each sample once (${store})`, function () {
    this.timeout(240_000);
    const pipeline = collectorPipeline(`readings-${store[0]}`, store);

    it("answers every served sample once after the restart, and the same window as before it", async () => {
      const started = await pipeline.startMaster();
      const client = pipeline.client;
      const readings = async (...window: string[]): Promise<ReadingsAnswer> => {
        const r = await runOutpostAsync(
          [
            ...["telemetry", "readings", "--device", "turbine-1", "--tag", "sample", ...window],
            ...["--json", "--token-file", join(pipeline.data, "admin.token")],
          ],
          { env: { OUTPOST_MASTER: started.url, OUTPOST_TOKEN: undefined } },
        );
        assert.equal(r.status, 0, r.stderr);
        return JSON.parse(r.stdout) as ReadingsAnswer;
      };
      const samples = (answer: ReadingsAnswer) =>
        answer.series.flatMap((s) => s.points.map((p) => Number(p[1])));

      await pipeline.startCollector({ seed: 5 });
      const sim = pipeline.sim;
      const image = sim.image;
      const testStart = Date.now();
      await eventually("samples stored as readings", 90_000, async () =>
        samples(await client.readings({ device: "turbine-1", tags: ["sample"], from: "10m" }))
          .length >= 20
          ? true
          : undefined,
      );

      // A window that is complete before the kill: read it now, and again after.
      const windowEnd = Date.now() - 2_000;
      const window = [
        "--from",
        new Date(testStart - 60_000).toISOString(),
        "--to",
        String(windowEnd),
      ];
      await new Promise((r) => setTimeout(r, 3_000));
      const before = await readings(...window);
      assert.ok(samples(before).length > 0, "the window holds samples");

      await pipeline.killMaster();
      const servedAtKill = image.samplesServed;
      await new Promise((r) => setTimeout(r, 10_000));
      assert.ok(image.samplesServed > servedAtKill + 20, "the collector kept sampling");
      await pipeline.startMaster();
      await new Promise((r) => setTimeout(r, 8_000));
      // The last sample is the one served before the simulator stops answering.
      await sim.stop();
      const served = image.samplesServed;

      let after = await readings("--from", "10m");
      for (
        let waited = 0;
        new Set(samples(after)).size < served && waited < 90_000;
        waited += 2_000
      ) {
        await new Promise((r) => setTimeout(r, 2_000));
        after = await readings("--from", "10m");
      }
      const counts = new Map<number, number>();
      for (const n of samples(after)) counts.set(n, (counts.get(n) ?? 0) + 1);
      assert.deepEqual(
        [...counts].filter(([, c]) => c > 1).map(([n]) => n),
        [],
        "samples answered more than once",
      );
      assert.deepEqual(
        Array.from({ length: served }, (_, i) => i + 1).filter((n) => !counts.has(n)),
        [],
        "served samples missing from the answer",
      );
      assert.equal(samples(after).length, served);
      assert.deepEqual(
        after.gaps.filter((g) => !g.reported),
        [],
        "every gap is one the node reported lost",
      );
      assert.deepEqual(
        await readings(...window),
        before,
        "the window reads the same after the restart",
      );
    });
  });
}
