import { strict as assert } from "node:assert";
import { parseProcCgroup, readCgroupMembership } from "../../../native/index.js";

describe("own cgroup from /proc/<pid>/cgroup", () => {
  it("maps each v1 controller (co-mounted ones too) and the unified path", () => {
    const m = parseProcCgroup(
      "4:memory:/process_api/abc\n2:cpu,cpuacct:/\n1:name=systemd:/x\n0::/user.slice\n",
    );
    assert.equal(m.unified, "/user.slice");
    assert.deepEqual(m.v1, {
      memory: "/process_api/abc",
      cpu: "/",
      cpuacct: "/",
      "name=systemd": "/x",
    });
  });

  it("reads this process's memory cgroup as the kernel lists it", () => {
    const m = readCgroupMembership();
    assert.ok(m.v1.memory?.startsWith("/"));
    assert.equal(typeof m.unified, "string");
  });

  it("rejects a malformed line", () => {
    assert.throws(() => parseProcCgroup("garbage\n"), TypeError);
  });
});
