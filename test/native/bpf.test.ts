import { strict as assert } from "node:assert";
import { attachSockAddrProgram, Cgroup, sockAddrPrograms } from "../../native/index.js";

/** `r0 = 1; exit`: lets every bind through, so only the attach mechanics are under test. */
const ALLOW_ALL = Buffer.from([0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

describe("native cgroup socket-address programs (bpf)", () => {
  let group: Cgroup;
  let child: Cgroup;
  before(() => {
    group = Cgroup.own().createChild(`outpost-test-bpf-${process.pid}`);
    child = group.createChild("below");
  });
  after(async () => {
    await child.remove();
    await group.remove();
  });

  it("attaches to the group in the unified tree; attaching again replaces, never stacks", () => {
    const dir = group.dirs.unified as string;
    assert.deepEqual(sockAddrPrograms(dir, "bind4"), []);
    attachSockAddrProgram(dir, "bind4", ALLOW_ALL);
    const first = sockAddrPrograms(dir, "bind4");
    assert.equal(first.length, 1);
    attachSockAddrProgram(dir, "bind4", ALLOW_ALL);
    const second = sockAddrPrograms(dir, "bind4");
    assert.equal(second.length, 1);
    assert.notEqual(second[0], first[0], "the new program took the old one's place");
  });

  it("acts on the groups below, which cannot hang programs of their own there", () => {
    const below = child.dirs.unified as string;
    assert.deepEqual(sockAddrPrograms(below, "bind4"), []);
    assert.equal(sockAddrPrograms(below, "bind4", { effective: true }).length, 1);
    assert.throws(() => attachSockAddrProgram(below, "bind4", ALLOW_ALL), {
      code: "EPERM",
      syscall: "bpf(BPF_PROG_ATTACH)",
      path: below,
    });
  });

  it("a program the verifier refuses fails with its log, and nothing is attached", () => {
    const dir = group.dirs.unified as string;
    const noReturnValue = Buffer.from([0x95, 0, 0, 0, 0, 0, 0, 0]);
    assert.throws(
      () => attachSockAddrProgram(dir, "bind6", noReturnValue),
      (err: NodeJS.ErrnoException & { verifierLog?: string }) =>
        err.code === "EACCES" &&
        err.syscall === "bpf(BPF_PROG_LOAD)" &&
        /R0 !read_ok/.test(err.verifierLog ?? ""),
    );
    assert.deepEqual(sockAddrPrograms(dir, "bind6"), []);
  });

  it("a path that is not a cgroup2 directory names the path", () => {
    assert.throws(() => attachSockAddrProgram("/nonexistent-outpost", "bind4", ALLOW_ALL), {
      code: "ENOENT",
      syscall: "open",
      path: "/nonexistent-outpost",
    });
  });
});
