import { strict as assert } from "node:assert";
import { cgroupModeOf, detectCgroupMode, parseCgroupMounts } from "../../../native/index.js";

const V2 =
  "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0\n";
const HYBRID = `tmpfs /sys/fs/cgroup tmpfs ro 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0
cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,xattr,name=systemd 0 0
cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,cpu,cpuacct 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0
`;
const V1 = HYBRID.split("\n")
  .filter((l) => !l.startsWith("cgroup2"))
  .join("\n");

describe("cgroup mode detection", () => {
  it("reads cgroup2 at /sys/fs/cgroup as v2", () => {
    assert.equal(cgroupModeOf(parseCgroupMounts(V2)), "v2");
  });

  it("reads v1 controllers plus cgroup2 at /sys/fs/cgroup/unified as hybrid", () => {
    assert.equal(cgroupModeOf(parseCgroupMounts(HYBRID)), "hybrid");
  });

  it("reads v1 controllers alone as v1, and the named systemd hierarchy alone as nothing", () => {
    assert.equal(cgroupModeOf(parseCgroupMounts(V1)), "v1");
    assert.equal(
      cgroupModeOf(parseCgroupMounts("cgroup /sys/fs/cgroup/systemd cgroup rw,name=systemd 0 0\n")),
      undefined,
    );
  });

  it("lists co-mounted v1 controllers and unescapes octal mount points", () => {
    const mounts = parseCgroupMounts(
      "cgroup /sys/fs/cgroup/cpu\\054cpuacct cgroup rw,nosuid,cpu,cpuacct 0 0\n",
    );
    assert.deepEqual(mounts, [
      {
        mountPoint: "/sys/fs/cgroup/cpu,cpuacct",
        fsType: "cgroup",
        controllers: ["cpu", "cpuacct"],
      },
    ]);
  });

  it("detects this machine's layout (v1 controllers plus the unified tree) as hybrid", () => {
    assert.equal(detectCgroupMode(), "hybrid");
  });
});
