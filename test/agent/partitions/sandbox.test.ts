import { strict as assert } from "node:assert";
import { text } from "node:stream/consumers";
import {
  PARTITION_SECCOMP_POLICY,
  partitionSandbox,
  sandboxArch,
} from "../../../agent/partitions/sandbox.js";
import { type SeccompArch, spawn, syscallTable } from "../../../native/index.js";
import { createSystemUser, type SystemUser } from "../../native/system-user.js";

const arch = sandboxArch() as SeccompArch;

/** Raw syscalls from python3 (all arguments 0), printing `NAME ERRNO` or `NAME ok`. */
const RAW_SYSCALLS = `
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
for arg in sys.argv[1:]:
    name, nr = arg.split("=")
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(int(nr)), *[ctypes.c_long(0)] * 5)
    print(name, ctypes.get_errno() if r < 0 else "ok")
`;

describe("partition sandbox (the default seccomp policy on real processes)", function () {
  this.timeout(30_000);
  let user: SystemUser;
  before(() => {
    user = createSystemUser("opsbx");
  });
  after(() => user.remove());

  async function raw(names: readonly string[], extraDeny?: readonly string[]): Promise<string[]> {
    const table = syscallTable(arch);
    const child = spawn({
      command: "/usr/bin/python3",
      args: ["-c", RAW_SYSCALLS, ...names.map((n) => `${n}=${table[n]}`)],
      user: user.name,
      ...partitionSandbox(extraDeny),
      stdio: ["ignore", "pipe", "inherit"],
    });
    const out = await text(child.stdout as NodeJS.ReadableStream);
    assert.deepEqual(await child.exited, { code: 0, signal: null });
    return out.trim().split("\n");
  }

  it("denies every listed syscall with EPERM and clone3 with ENOSYS", async () => {
    const denied = PARTITION_SECCOMP_POLICY.deny.filter((n) => syscallTable(arch)[n] !== undefined);
    assert.deepEqual(await raw([...denied, "clone3"]), [
      ...denied.map((n) => `${n} 1`),
      "clone3 38",
    ]);
  });

  it("adds a release's own denials on top, and never loses the default ones", async () => {
    assert.deepEqual(await raw(["getpid", "keyctl", "sched_yield"], ["sched_yield"]), [
      "getpid ok",
      "keyctl 1",
      "sched_yield 1",
    ]);
    assert.deepEqual(await raw(["sched_yield"]), ["sched_yield ok"]);
  });

  it("sets no_new_privs on every process it is given to", () => {
    assert.equal(partitionSandbox().noNewPrivs, true);
    assert.equal(partitionSandbox(["socket"]).noNewPrivs, true);
  });

  it("builds no filter where there is no syscall table (armhf), but keeps no_new_privs", () => {
    assert.equal(sandboxArch("arm"), undefined);
    assert.deepEqual(partitionSandbox([], "arm"), { noNewPrivs: true });
    assert.ok(partitionSandbox([], "arm64").seccomp, "aarch64 gets its filter");
  });
});
