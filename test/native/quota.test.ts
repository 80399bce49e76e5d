import { strict as assert } from "node:assert";
import { closeSync, constants as fs, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  getProjectAttributes,
  getProjectQuota,
  isNativeSystemError,
  projectQuotaState,
  setProjectAttributes,
  setProjectQuota,
} from "../../native/index.js";
import { mochaWithProjectQuota } from "../helpers/kernel-vm.js";

function withDir<T>(path: string, run: (fd: number) => T): T {
  const fd = openSync(path, fs.O_RDONLY | fs.O_DIRECTORY);
  try {
    return run(fd);
  } finally {
    closeSync(fd);
  }
}

describe("native project quota", function () {
  this.timeout(180_000);
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-quota-"));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it("reads a plain directory's project id: 0, not inherited", () => {
    assert.deepEqual(
      withDir(tmp, (fd) => getProjectAttributes(fd, tmp)),
      { projectId: 0, inherit: false },
    );
  });

  it("where project quota is not on, says so (not enforced) or fails naming the call and the path", () => {
    for (const dir of [tmp, "/dev/shm"]) {
      try {
        const state = withDir(dir, (fd) => projectQuotaState(fd, dir));
        assert.equal(state.enforced, false);
      } catch (err) {
        assert.ok(isNativeSystemError(err), String(err));
        assert.equal(err.syscall, "quotactl_fd(Q_XGETQSTATV)");
        assert.equal(err.path, dir);
        assert.match(err.code, /^E[A-Z]+$/);
      }
    }
  });

  it("an ioctl a filesystem lacks fails with its errno code, the call and the path", () => {
    assert.throws(
      () => withDir("/proc", (fd) => getProjectAttributes(fd, "/proc")),
      (err: NodeJS.ErrnoException) =>
        err.code === "ENOTTY" && err.syscall === "ioctl(FS_IOC_FSGETXATTR)" && err.path === "/proc",
    );
  });

  it("refuses a bad id or limit before any call", () => {
    withDir(tmp, (fd) => {
      assert.throws(() => getProjectQuota(fd, tmp, 2 ** 32), RangeError);
      assert.throws(() => setProjectAttributes(fd, tmp, 1.5, { inherit: true }), RangeError);
      assert.throws(() => setProjectQuota(fd, tmp, 1, { bytes: -1, inodes: 0 }), RangeError);
      assert.throws(() => setProjectQuota(fd, tmp, 1, { bytes: 0, inodes: 0.5 }), RangeError);
    });
  });

  it("on a kernel with ext4 project quota (this one, else a VM's): ids, inheritance, limits, EDQUOT", async () => {
    const run = await mochaWithProjectQuota(["test/native/quota.prjquota.ts"], 170_000);
    assert.equal(run.status, 0, run.output.slice(-4000));
    assert.deepEqual({ passing: run.passing, failing: run.failing }, { passing: 5, failing: 0 });
  });
});
