import { strict as assert } from "node:assert";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { mountProjectQuotaFs, type ProjectQuotaFs } from "../helpers/project-quota-fs.js";
import { eventually } from "../helpers/until.js";
import { HostileNode } from "./hostile-node.js";

const MiB = 1024 ** 2;

/**
 * Issue 24, disk: the agent's data dir on an ext4 with project quota (a 64 MiB loop
 * image), each partition held to 12 MiB by the kernel. A release with no `resources`
 * that fills the disk gets EDQUOT at its limit; another partition still writes, the
 * bystander keeps running and the node keeps reporting. Run by disk-quota-kernel.test.ts
 * on a kernel with ext4 project quota (the host's or a VM's).
 */
describe("security: a disk filler is held by its partition's project quota", function () {
  this.timeout(240_000);
  let quotaFs: ProjectQuotaFs;
  let node: HostileNode;

  before(async () => {
    quotaFs = mountProjectQuotaFs(64);
    node = new HostileNode({ dataRoot: quotaFs.dir, limits: { instance: { disk: 12 * MiB } } });
    await node.start();
  });
  after(async () => {
    await node?.close();
    quotaFs?.remove();
  });

  it("the filler gets EDQUOT at 12 MiB; another partition still writes; the node keeps reporting", async () => {
    const filler = node.release(
      "diskfill",
      `apiVersion: outpost/v1
name: diskfill
version: 1.0.0
instance:
  processes:
    - name: fill
      command: ["/bin/sh", "-c", "head -c 64000000 /dev/zero > fill; echo $? > rc; exec sleep 100000"]
  promises:
    - { name: done, file: rc, interval: 1s }
`,
    );
    await node.supplyAndRequest("diskfill", filler);
    const filled = await node.ready("diskfill", 60_000);
    assert.deepEqual(
      { diskBytes: filled.limits?.diskBytes, disk: filled.limits?.disk },
      { diskBytes: 12 * MiB, disk: "quota" },
    );
    const dir = join(node.agentData, "partitions", `p${filled.partition + 1}`);
    assert.notEqual(readFileSync(join(dir, "rc"), "utf8").trim(), "0", "the write failed");
    const held = statSync(join(dir, "fill")).blocks * 512;
    assert.ok(held <= 12 * MiB, `held at its quota (${held} bytes)`);
    const log = readFileSync(
      join(node.agentData, "logs", `p${filled.partition + 1}`, "fill.log"),
      "utf8",
    );
    assert.match(log, /Disk quota exceeded/);

    const writer = node.release(
      "writer",
      `apiVersion: outpost/v1
name: writer
version: 1.0.0
instance:
  processes:
    - name: write
      command: ["/bin/sh", "-c", "head -c 4000000 /dev/zero > data && touch ok; exec sleep 100000"]
  promises:
    - { name: wrote, file: ok, interval: 1s }
`,
    );
    await node.supplyAndRequest("writer", writer);
    const wrote = await node.ready("writer", 60_000);
    assert.notEqual(wrote.partition, filled.partition);
    await node.stillConverging(30_000);
    await eventually("diskfill still reported", 10_000, async () =>
      (await node.show("diskfill"))?.status === "running" ? true : undefined,
    );
  });
});
