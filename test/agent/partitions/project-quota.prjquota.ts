import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import {
  chownSync,
  closeSync,
  constants as fs,
  mkdirSync,
  openSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { DiskQuotas } from "../../../agent/partitions/disk-quota.js";
import { partitionLayout } from "../../../agent/partitions/partition-layout.js";
import { applyProjectQuota, projectIdOf } from "../../../agent/partitions/project-quota.js";
import {
  getProjectAttributes,
  getProjectQuota,
  setProjectAttributes,
  setProjectQuota,
} from "../../../native/index.js";
import { mountProjectQuotaFs, type ProjectQuotaFs } from "../../helpers/project-quota-fs.js";

const MiB = 1024 ** 2;
const NOBODY = 65534;
const logger = pino({ level: "silent" });

function projectOf(path: string): number {
  const fd = openSync(path, fs.O_RDONLY | fs.O_NOFOLLOW);
  try {
    return getProjectAttributes(fd, path).projectId;
  } finally {
    closeSync(fd);
  }
}

// Run by quota-kernel.test.ts on a kernel with ext4 project quota (the host's or a VM's).
describe("agent project quota, on a loop-mounted ext4 with prjquota", () => {
  let quotaFs: ProjectQuotaFs;
  before(() => {
    quotaFs = mountProjectQuotaFs(64);
  });
  after(() => quotaFs.remove());

  it("puts a partition's directory and logs in its project: what was there is labeled, links are not followed", () => {
    const part = join(quotaFs.dir, "partitions", "p1");
    const logs = join(quotaFs.dir, "logs", "p1");
    const outside = join(quotaFs.dir, "outside");
    for (const d of [join(part, "deep", "er"), logs, outside]) mkdirSync(d, { recursive: true });
    writeFileSync(join(part, "deep", "er", "old"), "before the quota");
    writeFileSync(join(logs, "server.log"), "x");
    writeFileSync(join(outside, "theirs"), "not the partition's");
    symlinkSync(outside, join(part, "link"));
    const id = projectIdOf("t-", 1);
    applyProjectQuota([part, logs], id, { bytes: 4 * MiB, inodes: 100 });
    for (const p of [
      part,
      join(part, "deep"),
      join(part, "deep", "er", "old"),
      logs,
      join(logs, "server.log"),
    ])
      assert.equal(projectOf(p), id, p);
    assert.equal(projectOf(outside), 0, "the link's target is left alone");
    assert.equal(projectOf(join(outside, "theirs")), 0);
    const fd = openSync(part, fs.O_RDONLY | fs.O_DIRECTORY);
    try {
      assert.equal(getProjectAttributes(fd, part).inherit, true);
      const q = getProjectQuota(fd, part, id);
      assert.equal(q.blockHardBytes, 4 * MiB);
      assert.equal(q.inodeHard, 100);
      // Again with other limits (the operator changed them): only the limits change.
      applyProjectQuota([part, logs], id, { bytes: 8 * MiB, inodes: 200 });
      assert.equal(getProjectQuota(fd, part, id).blockHardBytes, 8 * MiB);
    } finally {
      closeSync(fd);
    }
  });

  it("refuses an id with someone else's files charged to it (E_AGENT_PROJECT_ID); limits alone take nothing", () => {
    const theirs = join(quotaFs.dir, "theirs");
    const part = join(quotaFs.dir, "partitions", "p2");
    mkdirSync(theirs);
    mkdirSync(part, { recursive: true });
    writeFileSync(join(theirs, "file"), Buffer.alloc(64 * 1024, 1));
    const id = projectIdOf("t-", 2);
    const fd = openSync(theirs, fs.O_RDONLY | fs.O_DIRECTORY);
    try {
      setProjectQuota(fd, theirs, id, { bytes: 123 * 1024, inodes: 7 });
      setProjectAttributes(fd, theirs, id, { inherit: true });
      const file = openSync(join(theirs, "file"), fs.O_RDONLY);
      setProjectAttributes(file, "file", id, { inherit: false });
      closeSync(file);
    } finally {
      closeSync(fd);
    }
    assert.throws(
      () => applyProjectQuota([part], id, { bytes: MiB, inodes: 10 }),
      (err: Error & { code?: string }) =>
        err.code === "E_AGENT_PROJECT_ID" && /project id \d+ for .*p2 is in use/.test(err.message),
    );
    assert.equal(projectOf(part), 0, "left unlabeled");
    // An uninstalled agent's id: limits set, nothing charged. Taken, with the new limits.
    const free = projectIdOf("t-", 4);
    const p4 = join(quotaFs.dir, "partitions", "p4");
    mkdirSync(p4);
    const root = openSync(quotaFs.dir, fs.O_RDONLY | fs.O_DIRECTORY);
    try {
      setProjectQuota(root, quotaFs.dir, free, { bytes: 5 * MiB, inodes: 5 });
    } finally {
      closeSync(root);
    }
    applyProjectQuota([p4], free, { bytes: MiB, inodes: 10 });
    assert.equal(projectOf(p4), free);
  });

  it("DiskQuotas: quota mode, the kernel holds a partition's writer to its limit, nothing is measured", async () => {
    const root = join(quotaFs.dir, "agent");
    const naming = { root: join(root, "partitions"), logRoot: join(root, "logs"), userPrefix: "x" };
    const layout = partitionLayout(naming, 3);
    mkdirSync(layout.path, { recursive: true });
    mkdirSync(layout.logPath, { recursive: true });
    chownSync(layout.path, NOBODY, NOBODY);
    const quotas = new DiskQuotas({
      roots: { partitions: naming.root, logs: naming.logRoot },
      prefix: "q-",
      bytes: 2 * MiB,
      logger,
      onChange: () => assert.fail("quota mode never flips a partition"),
    });
    assert.equal(quotas.mode, "quota");
    assert.equal(quotas.limit?.bytes, 2 * MiB);
    assert.equal(quotas.limit?.inodes, 1024, "a 2/64 share of the inodes, at least 1024");
    assert.equal(quotas.prepare(layout), "quota");
    assert.equal(projectOf(layout.path), projectIdOf("q-", 3));
    const run = spawnSync("dd", ["if=/dev/zero", "of=fill", "bs=1M", "count=8", "status=none"], {
      cwd: layout.path,
      uid: NOBODY,
      gid: NOBODY,
      encoding: "utf8",
    });
    assert.match(run.stderr, /Disk quota exceeded/);
    await quotas.measureAll();
    assert.equal(quotas.exceeded(3), undefined);
  });
});
