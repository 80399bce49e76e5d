import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { DiskQuotas, inodesFor } from "../../../agent/partitions/disk-quota.js";
import { partitionLayout } from "../../../agent/partitions/partition-layout.js";
import { PROJECT_ID_BASE, projectIdOf } from "../../../agent/partitions/project-quota.js";

const MiB = 1024 ** 2;
const logger = pino({ level: "silent" });

describe("agent disk quotas", () => {
  it("project ids: a block of 256 per agent prefix, stable, inside the agent's range", () => {
    const a = projectIdOf("outpost-", 1);
    assert.equal(projectIdOf("outpost-", 1), a);
    assert.equal(projectIdOf("outpost-", 254), a + 253);
    assert.notEqual(projectIdOf("o3fa2c1-", 1), a);
    for (const prefix of ["outpost-", "o3fa2c1-", "oabcdef-"])
      for (const n of [1, 254]) {
        const id = projectIdOf(prefix, n);
        assert.ok(id > PROJECT_ID_BASE && id < PROJECT_ID_BASE + 0x10_0000, `${id}`);
        assert.equal(id % 256, n);
      }
  });

  it("the inode limit is the same share of the filesystem's inodes as the space limit", () => {
    assert.equal(inodesFor(MiB, 64 * MiB, 16_384), 1024, "never below 1024");
    assert.equal(inodesFor(32 * MiB, 64 * MiB, 16_384), 8192);
    assert.equal(inodesFor(32 * MiB, 64 * MiB, 0), 0, "a filesystem that counts none: none");
  });

  describe("where the filesystem has no project quota (measured)", () => {
    let tmp: string;
    let quotas: DiskQuotas;
    let changes = 0;
    const naming = () => ({
      root: join(tmp, "partitions"),
      logRoot: join(tmp, "logs"),
      userPrefix: "x",
    });

    before(() => {
      tmp = mkdtempSync(join(tmpdir(), "outpost-disk-quota-"));
      for (const n of [1, 2]) {
        const l = partitionLayout(naming(), n);
        mkdirSync(l.path, { recursive: true });
        mkdirSync(l.logPath, { recursive: true });
      }
      quotas = new DiskQuotas({
        roots: { partitions: join(tmp, "partitions"), logs: join(tmp, "logs") },
        prefix: "x",
        bytes: 2 * MiB,
        pace: { batch: 1000, pauseMs: 0 },
        logger,
        onChange: () => changes++,
      });
    });
    after(() => rmSync(tmp, { recursive: true, force: true }));

    it("measures each partition's directory and logs and names the one over its limit", async () => {
      assert.equal(quotas.mode, "measured");
      for (const n of [1, 2])
        assert.equal(quotas.prepare(partitionLayout(naming(), n)), "measured");
      const p1 = partitionLayout(naming(), 1);
      writeFileSync(join(p1.path, "data"), Buffer.alloc(MiB, 1));
      writeFileSync(join(p1.logPath, "server.log"), Buffer.alloc(MiB + 512 * 1024, 1));
      await quotas.measureAll();
      const over = quotas.exceeded(1);
      assert.equal(over?.code, "E_AGENT_DISK_QUOTA");
      assert.match(
        over?.message ?? "",
        /^partition 1 holds \d+ bytes on disk, over its limit of 2097152: instance stopped until its files are back under$/,
      );
      assert.equal(quotas.exceeded(2), undefined);
      assert.equal(changes, 1);
      await quotas.measureAll();
      assert.equal(changes, 1, "told once, not every round");
    });

    it("says so once the files are back under", async () => {
      rmSync(join(partitionLayout(naming(), 1).logPath, "server.log"));
      await quotas.measureAll();
      assert.equal(quotas.exceeded(1), undefined);
      assert.equal(changes, 2);
    });

    it("measures every intervalMs once started, until stopped", async () => {
      const p2 = partitionLayout(naming(), 2);
      const timed = new DiskQuotas({
        roots: { partitions: join(tmp, "partitions"), logs: join(tmp, "logs") },
        prefix: "x",
        bytes: MiB,
        intervalMs: 20,
        pace: { batch: 1000, pauseMs: 0 },
        logger,
        onChange: () => undefined,
      });
      timed.prepare(p2);
      timed.start();
      writeFileSync(join(p2.path, "data"), Buffer.alloc(2 * MiB, 1));
      const deadline = Date.now() + 5000;
      while (!timed.exceeded(2) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      await timed.stop();
      assert.ok(timed.exceeded(2), "found over its limit within 5 s");
    });
  });

  it("no limit (disk: max): mode none, nothing measured", () => {
    const tmp = mkdtempSync(join(tmpdir(), "outpost-disk-none-"));
    try {
      const none = new DiskQuotas({
        roots: { partitions: tmp, logs: tmp },
        prefix: "x",
        bytes: null,
        logger,
        onChange: () => undefined,
      });
      assert.equal(none.mode, "none");
      assert.equal(none.limit, undefined);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
