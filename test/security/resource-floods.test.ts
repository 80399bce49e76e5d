import { strict as assert } from "node:assert";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { partitionsGroupName } from "../../agent/index.js";
import { Cgroup, readCgroupLayout } from "../../native/index.js";
import { eventually } from "../helpers/until.js";
import { HostileNode } from "./hostile-node.js";

const MiB = 1024 ** 2;

/**
 * Issue 24, default limits: releases that declare no `resources` and flood the node —
 * a fork bomb, a memory hog, a disk filler — are held by the node's defaults (pids the
 * built-in 512, memory and disk set small here so the test stays quick), on real
 * processes as root; the bystander keeps running and the node keeps reporting. The data
 * dir sits on this machine's ordinary filesystem, without project quota: disk is the
 * measured path (the project-quota path: disk-quota-kernel.test.ts).
 */
describe("security: floods of a release with no resources are held by the node's default limits", function () {
  this.timeout(120_000);
  const node = new HostileNode({
    limits: { instance: { memory: 128 * MiB, disk: 32 * MiB } },
    diskInterval: 0.3,
  });

  before(() => node.start());
  after(() => node.close());

  /** The partition's own group (where its limits are), in the hierarchy that has `file`. */
  function partitionFile(partition: number, file: string): string {
    const found = findPartitionFile(partition, file);
    if (found === undefined) throw new Error(`no ${file} for partition ${partition}`);
    return found;
  }

  function findPartitionFile(partition: number, file: string): string | undefined {
    const group = partitionsGroupName(node.agent?.naming.prefix ?? "");
    const own = Cgroup.own(readCgroupLayout());
    const dirs = [own.dirs.unified, ...Object.values(own.dirs.v1)];
    for (const dir of dirs) {
      if (dir === undefined) continue;
      // The agent's groups sit below the test's own `outpost-test-security-PID`.
      const path = join(dir, `outpost-test-security-${process.pid}`, group, `p${partition}`, file);
      if (existsSync(path)) return path;
    }
    return undefined;
  }

  it("a fork bomb stops at the partition's 512 tasks; the others keep running", async () => {
    const url = node.release(
      "forkbomb",
      `apiVersion: outpost/v1
name: forkbomb
version: 1.0.0
instance:
  processes:
    - { name: bomb, command: ["/bin/sh", "-c", "f() { f | f & }; f; exec sleep 100000"] }
`,
    );
    await node.supplyAndRequest("forkbomb", url);
    const placed = await eventually("forkbomb placed and reported", 20_000, async () => {
      const i = await node.show("forkbomb");
      return i?.partition !== null && i?.limits ? i : undefined;
    });
    const partition = (placed.partition as number) + 1;
    assert.equal(placed.limits?.pids, 512, "the default: 512 tasks per partition");
    const pidsMax = partitionFile(partition, "pids.max");
    assert.equal(readFileSync(pidsMax, "utf8").trim(), "512");
    const current = partitionFile(partition, "pids.current");
    let highest = 0;
    await eventually("the bomb at its limit", 20_000, () => {
      highest = Math.max(highest, Number(readFileSync(current, "utf8")));
      return highest >= 500 ? true : undefined;
    });
    await node.stillConverging(15_000);
    highest = Math.max(highest, Number(readFileSync(current, "utf8")));
    assert.ok(highest <= 512, `never more than 512 tasks (saw ${highest})`);
    await node.client.destroy("forkbomb");
    await eventually("the bomb gone", 30_000, async () =>
      (await node.show("forkbomb")) === undefined ? true : undefined,
    );
    await node.stillConverging();
  });

  it("a memory hog is OOM-killed in its own partition; the others keep running", async () => {
    const url = node.release(
      "memhog",
      `apiVersion: outpost/v1
name: memhog
version: 1.0.0
instance:
  processes:
    - name: hog
      command: ["/bin/sh", "-c", "head -c 4000000000 /dev/zero | tail > /dev/null"]
      restart: on-failure
`,
    );
    await node.supplyAndRequest("memhog", url);
    const placed = await eventually("memhog placed and reported", 20_000, async () => {
      const i = await node.show("memhog");
      return i?.partition !== null && i?.limits ? i : undefined;
    });
    assert.equal(placed.limits?.memoryBytes, 128 * MiB);
    const partition = (placed.partition as number) + 1;
    await eventually("an OOM kill in memhog's partition", 30_000, () => {
      // Counted in the victim's own group (v1 does not add it up the tree), which may
      // not exist yet: the partition's group is made again after the bomb's reset.
      const file =
        findPartitionFile(partition, "proc-hog/memory.events") ??
        findPartitionFile(partition, "proc-hog/memory.oom_control");
      const events = file ? readFileSync(file, "utf8") : "";
      return /oom_kill [1-9]/.test(events) ? true : undefined;
    });
    await node.stillConverging(10_000);
    const peakFile =
      findPartitionFile(partition, "memory.max_usage_in_bytes") ??
      partitionFile(partition, "memory.peak");
    const peak = Number(readFileSync(peakFile, "utf8"));
    assert.ok(peak <= 128 * MiB, `memory never past the limit (peak ${peak})`);
    await node.client.destroy("memhog");
    await eventually("memhog gone", 30_000, async () =>
      (await node.show("memhog")) === undefined ? true : undefined,
    );
  });

  it("a disk filler is measured over its limit and stopped, reported failed, and restarted once under", async () => {
    const url = node.release(
      "diskfill",
      `apiVersion: outpost/v1
name: diskfill
version: 1.0.0
instance:
  processes:
    - name: fill
      command: ["/bin/sh", "-c", "[ -e filled ] || { head -c 64000000 /dev/zero > fill; touch filled; }; exec sleep 100000"]
`,
    );
    await node.supplyAndRequest("diskfill", url);
    const failed = await node.failed("diskfill", 30_000);
    assert.deepEqual(failed.limits, {
      memoryBytes: 128 * MiB,
      pids: 512,
      cpu: failed.limits?.cpu,
      openFiles: 4096,
      diskBytes: 32 * MiB,
      disk: "measured",
    });
    const disk = failed.promises.find((p) => p.name === "disk");
    assert.ok(disk && !disk.ok, "a failed disk promise");
    assert.match(
      disk.message ?? "",
      /^E_AGENT_DISK_QUOTA: partition \d+ holds \d+ bytes on disk, over its limit of 33554432: instance stopped/,
    );
    const partition = failed.partition + 1;
    const uid = node.partitionUid(partition);
    await eventually("diskfill's processes stopped", 20_000, () =>
      node.processesOf(uid, partition).all.length === 0 ? true : undefined,
    );
    await node.stillConverging();
    // The operator makes room: the instance starts again (and does not fill again).
    rmSync(join(node.agentData, "partitions", `p${partition}`, "fill"));
    await eventually("diskfill running again", 30_000, async () => {
      const i = await node.show("diskfill");
      return i?.status === "running" && i.promises.every((p) => p.ok) ? true : undefined;
    });
    assert.ok(node.processesOf(uid, partition).all.length > 0, "its process runs again");
  });
});
