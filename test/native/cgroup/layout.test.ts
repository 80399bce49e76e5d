import { strict as assert } from "node:assert";
import { allDirs, childDirs, dirsOfMembership } from "../../../native/cgroup/layout.js";
import { cgroupLayoutOf, parseCgroupMounts } from "../../../native/index.js";

describe("cgroup layout", () => {
  const hybrid = cgroupLayoutOf(
    parseCgroupMounts(`cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0
cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0
`),
  );

  it("places each v1 controller at its hierarchy and the unified tree beside them", () => {
    assert.deepEqual(hybrid, {
      mode: "hybrid",
      unified: "/sys/fs/cgroup/unified",
      v1: {
        cpu: "/sys/fs/cgroup/cpu,cpuacct",
        cpuacct: "/sys/fs/cgroup/cpu,cpuacct",
        memory: "/sys/fs/cgroup/memory",
      },
    });
  });

  it("derives a child's directories per hierarchy from the caller's membership, co-mounted ones once", () => {
    assert.ok(hybrid);
    const own = dirsOfMembership(hybrid, {
      unified: "/",
      v1: { cpu: "/", cpuacct: "/", memory: "/api/7" },
    });
    const child = childDirs(own, "job");
    assert.deepEqual(child, {
      unified: "/sys/fs/cgroup/unified/job",
      v1: {
        cpu: "/sys/fs/cgroup/cpu,cpuacct/job",
        cpuacct: "/sys/fs/cgroup/cpu,cpuacct/job",
        memory: "/sys/fs/cgroup/memory/api/7/job",
      },
    });
    assert.deepEqual(allDirs(child), [
      "/sys/fs/cgroup/unified/job",
      "/sys/fs/cgroup/cpu,cpuacct/job",
      "/sys/fs/cgroup/memory/api/7/job",
    ]);
  });

  it("uses /sys/fs/cgroup alone on v2", () => {
    assert.deepEqual(cgroupLayoutOf(parseCgroupMounts("cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n")), {
      mode: "v2",
      unified: "/sys/fs/cgroup",
      v1: {},
    });
  });
});
