import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { chownSync, closeSync, constants as fs, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  getProjectAttributes,
  getProjectQuota,
  projectQuotaState,
  setProjectAttributes,
  setProjectQuota,
} from "../../native/index.js";
import { mountProjectQuotaFs, type ProjectQuotaFs } from "../helpers/project-quota-fs.js";

const MiB = 1024 ** 2;
const NOBODY = 65534;

function openDir(path: string): number {
  return openSync(path, fs.O_RDONLY | fs.O_DIRECTORY | fs.O_NOFOLLOW);
}

/** Runs `sh -c script` as nobody in `cwd`; its stderr. */
function asNobody(cwd: string, script: string): string {
  const run = spawnSync("/bin/sh", ["-c", script], {
    cwd,
    uid: NOBODY,
    gid: NOBODY,
    encoding: "utf8",
  });
  return run.stderr;
}

// Run by quota-kernel.test.ts on a kernel with ext4 project quota (the host's or a VM's).
describe("native project quota, on a loop-mounted ext4 with prjquota", () => {
  let quotaFs: ProjectQuotaFs;
  before(() => {
    quotaFs = mountProjectQuotaFs(64);
  });
  after(() => quotaFs.remove());

  it("sees project quota counted and enforced", () => {
    const fd = openDir(quotaFs.dir);
    try {
      assert.deepEqual(projectQuotaState(fd, quotaFs.dir), { accounting: true, enforced: true });
    } finally {
      closeSync(fd);
    }
  });

  it("gives a directory a project id with the inherit flag; what is made below takes the id", () => {
    const dir = join(quotaFs.dir, "labeled");
    mkdirSync(dir);
    const fd = openDir(dir);
    try {
      assert.deepEqual(getProjectAttributes(fd, dir), { projectId: 0, inherit: false });
      setProjectAttributes(fd, dir, 4242, { inherit: true });
      assert.deepEqual(getProjectAttributes(fd, dir), { projectId: 4242, inherit: true });
    } finally {
      closeSync(fd);
    }
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "sub", "file"), "x");
    const file = openSync(join(dir, "sub", "file"), fs.O_RDONLY);
    const sub = openDir(join(dir, "sub"));
    try {
      assert.deepEqual(getProjectAttributes(file, "file"), { projectId: 4242, inherit: false });
      assert.deepEqual(getProjectAttributes(sub, "sub"), { projectId: 4242, inherit: true });
    } finally {
      closeSync(file);
      closeSync(sub);
    }
  });

  it("sets and reads a project's hard limits and usage", () => {
    const dir = join(quotaFs.dir, "counted");
    mkdirSync(dir);
    const fd = openDir(dir);
    try {
      setProjectAttributes(fd, dir, 4343, { inherit: true });
      setProjectQuota(fd, dir, 4343, { bytes: 3 * MiB + 1, inodes: 100 });
      writeFileSync(join(dir, "data"), Buffer.alloc(MiB, 1));
      const q = getProjectQuota(fd, dir, 4343);
      assert.equal(q.blockHardBytes, 3 * MiB + 1024, "rounded up to 1 KiB quota blocks");
      assert.equal(q.inodeHard, 100);
      assert.equal(q.blockSoftBytes, 0);
      assert.ok(q.spaceBytes >= MiB && q.spaceBytes < 2 * MiB, `${q.spaceBytes}`);
      assert.equal(q.inodes, 2, "the directory and its file");
    } finally {
      closeSync(fd);
    }
  });

  it("holds an unprivileged writer to the limits: EDQUOT past the space, and past the inodes", () => {
    const dir = join(quotaFs.dir, "held");
    mkdirSync(dir);
    chownSync(dir, NOBODY, NOBODY);
    const fd = openDir(dir);
    try {
      setProjectAttributes(fd, dir, 4444, { inherit: true });
      setProjectQuota(fd, dir, 4444, { bytes: 2 * MiB, inodes: 20 });
      const space = asNobody(dir, "dd if=/dev/zero of=big bs=1M count=8 status=none");
      assert.match(space, /Disk quota exceeded/);
      const q = getProjectQuota(fd, dir, 4444);
      assert.ok(q.spaceBytes <= 2 * MiB, `held at the limit (${q.spaceBytes})`);
      const files = asNobody(
        dir,
        "i=0; while [ $i -lt 50 ]; do : > f$i || exit 1; i=$((i+1)); done",
      );
      assert.match(files, /Disk quota exceeded/);
      assert.ok(getProjectQuota(fd, dir, 4444).inodes <= 20);
    } finally {
      closeSync(fd);
    }
  });

  it("errors carry errno code, syscall and path: an id out of range is refused before any call", () => {
    const fd = openDir(quotaFs.dir);
    try {
      assert.throws(
        () => setProjectQuota(fd, quotaFs.dir, -1, { bytes: 1, inodes: 1 }),
        RangeError,
      );
      assert.throws(
        () => setProjectAttributes(-1, "/nowhere", 1, { inherit: false }),
        (err: NodeJS.ErrnoException) =>
          err.code === "EBADF" &&
          err.syscall === "ioctl(FS_IOC_FSGETXATTR)" &&
          err.path === "/nowhere",
      );
    } finally {
      closeSync(fd);
    }
  });
});
