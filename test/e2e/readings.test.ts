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
import { MasterClient, openDataDir, type ReadingsAnswer } from "../../master/index.js";
import { Cgroup } from "../../native/index.js";
import { freePort } from "../helpers/free-port.js";
import { repoRoot, runOutpostAsync } from "../helpers/run-outpost.js";
import { eventually } from "../helpers/until.js";
import { startMasterProcess, stopMasterProcess } from "../master/master-process.js";

const logger = pino({ level: "silent" });

/**
 * The acceptance of the readings model (issue 26): the demo's pipeline (turbine
 * simulator → collector in a partition → buffer → agent relay → master) with the master
 * killed by SIGKILL and started again. Afterwards `outpost telemetry readings` returns
 * every sample the simulator served exactly once (it numbers them in register 16), with
 * gaps only where losses were reported, and a window read before the kill reads the same.
 */
describe("e2e: readings survive a master killed with SIGKILL, each sample once", function () {
  this.timeout(240_000);
  let tmp: string;
  let group: Cgroup;
  let master: ChildProcess | undefined;
  let agent: RunningAgent | undefined;
  let sim: RunningTurbineSim | undefined;
  const userPrefix = `opr${randomBytes(3).toString("hex")}-`;
  const buildPrefix = `oprb${randomBytes(3).toString("hex")}`;
  const groupName = `outpost-test-e2e-readings-${process.pid}`;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-e2e-readings-"));
    chmodSync(tmp, 0o711);
    group = Cgroup.own().createChild(groupName);
  });

  after(async () => {
    await agent?.shutdown();
    if (master) await stopMasterProcess(master);
    await sim?.stop();
    if (group) await removeCgroupTree(group);
    for (const n of [1, 2]) removeSystemUser(`${userPrefix}${n}`);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("answers every served sample once after the restart, and the same window as before it", async () => {
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
    const readings = async (...window: string[]): Promise<ReadingsAnswer> => {
      const r = await runOutpostAsync(
        [
          ...["telemetry", "readings", "--device", "turbine-1", "--tag", "sample", ...window],
          ...["--json", "--token-file", join(data, "admin.token")],
        ],
        { env: { OUTPOST_MASTER: started.url, OUTPOST_TOKEN: undefined } },
      );
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as ReadingsAnswer;
    };
    const samples = (answer: ReadingsAnswer) =>
      answer.series.flatMap((s) => s.points.map((p) => Number(p[1])));

    const agentData = join(tmp, "agent");
    await client.addNode("n1", loadOrCreateIdentity(agentData).publicKey);
    sim = await startTurbineSim({ seed: 5, modbus: { host: "127.0.0.1", port: 0 } });
    agent = await startAgent({
      data: agentData,
      master: started.endpoint,
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
      parameters: { modbus: `127.0.0.1:${sim.modbus?.port}`, interval: "200ms" },
    });
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

    assert.equal(await stopMasterProcess(master as ChildProcess, "SIGKILL"), null);
    const servedAtKill = image.samplesServed;
    await new Promise((r) => setTimeout(r, 10_000));
    assert.ok(image.samplesServed > servedAtKill + 20, "the collector kept sampling");
    await start();
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
