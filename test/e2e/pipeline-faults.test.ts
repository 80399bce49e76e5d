import { strict as assert } from "node:assert";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import {
  loadOrCreateIdentity,
  type RunningAgent,
  removeCgroupTree,
  removeSystemUser,
  startAgent,
} from "../../agent/index.js";
import { type RunningTurbineSim, startTurbineSim } from "../../collector/index.js";
import { type FaultProxy, startFaultProxy } from "../../common/index.js";
import { MasterClient, openDataDir, SqliteStore } from "../../master/index.js";
import { Cgroup } from "../../native/index.js";
import { freePort } from "../helpers/free-port.js";
import { collect } from "../helpers/record-chunks.js";
import { repoRoot } from "../helpers/run-outpost.js";
import { eventually } from "../helpers/until.js";
import { startMasterProcess, stopMasterProcess } from "../master/master-process.js";

const logger = pino({ level: "silent" });

/**
 * The demo's pipeline (turbine simulator → collector instance in a partition → its
 * buffer → the agent's local API relay → master) under the two faults a wind farm's
 * uplink sees: the master killed with SIGKILL for 30 s and restarted, and the link
 * flapping all along. The simulator numbers every reading it serves; at the end the
 * master's store must hold each number exactly once.
 */
describe("e2e fault: the demo pipeline with the master killed for 30 s and the link flapping", function () {
  this.timeout(240_000);
  let tmp: string;
  let group: Cgroup;
  let master: ChildProcess | undefined;
  let agent: RunningAgent | undefined;
  let sim: RunningTurbineSim | undefined;
  let link: FaultProxy | undefined;
  const flips: boolean[] = [];
  const userPrefix = `opf${randomBytes(3).toString("hex")}-`;
  const buildPrefix = `opfb${randomBytes(3).toString("hex")}`;
  const groupName = `outpost-test-e2e-pipeline-${process.pid}`;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-e2e-pipeline-"));
    chmodSync(tmp, 0o711);
    group = Cgroup.own().createChild(groupName);
  });

  after(async () => {
    await agent?.shutdown();
    if (master) await stopMasterProcess(master);
    await link?.close();
    await sim?.stop();
    if (group) await removeCgroupTree(group);
    for (const n of [1, 2]) removeSystemUser(`${userPrefix}${n}`);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("stores every sample the simulator served exactly once", async () => {
    const data = join(tmp, "master");
    const at = {
      listen: `tcp://127.0.0.1:${await freePort()}`,
      http: `127.0.0.1:${await freePort()}`,
    };
    const start = async () => {
      const proc = startMasterProcess(data, at);
      master = proc.child;
      return proc.started;
    };
    const started = await start();
    const client = new MasterClient(started.url, openDataDir(data).adminToken);
    const agentData = join(tmp, "agent");
    await client.addNode("n1", loadOrCreateIdentity(agentData).publicKey);

    sim = await startTurbineSim({ seed: 3, modbus: { host: "127.0.0.1", port: 0 } });
    const port = Number(/:(\d+)$/.exec(started.endpoint)?.[1]);
    link = await startFaultProxy(
      { host: "127.0.0.1", port },
      { cycle: { upMs: 7000, downMs: 3000, onChange: (up) => flips.push(up) } },
    );
    agent = await startAgent({
      data: agentData,
      master: link.endpoint,
      masterKey: started.publicKey,
      name: "n1",
      partitions: 2,
      agentVersion: "0.0.0-test",
      logger,
      cgroupParent: groupName,
      userPrefix,
      buildAccountPrefix: buildPrefix,
      syncInterval: 0.5,
    });
    const release = join(repoRoot, "collector", "release", "software.yaml");
    await eventually("the agent's hello", 30_000, async () =>
      (await client.listNodes())[0]?.partitions === 2 ? true : undefined,
    );
    await client.supply("n1", release);
    await client.request({
      name: "collector",
      software: release,
      parameters: {
        modbus: `127.0.0.1:${sim.modbus?.port}`,
        interval: "200ms",
      },
    });
    const image = sim.image;
    await eventually("samples flowing", 60_000, () =>
      image.samplesServed >= 20 ? true : undefined,
    );

    assert.equal(await stopMasterProcess(master as ChildProcess, "SIGKILL"), null);
    const servedAtKill = image.samplesServed;
    await new Promise((r) => setTimeout(r, 30_000));
    assert.ok(image.samplesServed > servedAtKill + 50, "the collector kept sampling");
    await start();
    await new Promise((r) => setTimeout(r, 12_000));
    // The last sample is the one served before the simulator stops answering.
    await sim.stop();
    const served = image.samplesServed;

    const store = SqliteStore.open(openDataDir(data).databasePath);
    try {
      const stored = async () =>
        (await collect(store.readings({ tags: ["sample"], from: 0, to: 2 ** 52 }))).map((r) =>
          Number(r.value),
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
      const missing = Array.from({ length: served }, (_, i) => i + 1).filter((n) => !counts.has(n));
      assert.deepEqual(missing, [], "served samples missing at the master");
      assert.equal(samples.length, served);
      assert.deepEqual(await store.queryLosses({ stream: "telemetry" }), []);
    } finally {
      await store.close();
    }
    assert.ok(flips.filter((up) => !up).length >= 4, `the link went down ${flips.length} times`);
  });
});
