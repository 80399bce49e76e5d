import { strict as assert } from "node:assert";
import {
  AUDIT_ARCH,
  buildSeccompFilter,
  SECCOMP_ARCHES,
  type SeccompArch,
  syscallTable,
  UnknownSyscallError,
} from "../../../native/index.js";

const ALLOW = 0x7fff0000;
const KILL_PROCESS = 0x80000000;
const EPERM = 0x00050000 | 1;
const ENOSYS = 0x00050000 | 38;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNS = 0x00020000;

interface SeccompData {
  nr: number;
  arch: number;
  /** Each argument as a 64-bit value. */
  args?: bigint[];
}

/**
 * The kernel's classic-BPF semantics for the instructions a filter may hold, enough to
 * run ours: what the program returns for one syscall. Any other opcode, or a jump out of
 * the program, fails the test.
 */
function run(program: Uint8Array, data: SeccompData): number {
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const packet = new DataView(new ArrayBuffer(64));
  packet.setInt32(0, data.nr, true);
  packet.setUint32(4, data.arch, true);
  for (const [i, arg] of (data.args ?? []).entries()) packet.setBigUint64(16 + 8 * i, arg, true);
  let a = 0;
  for (let pc = 0; pc < program.length / 8; pc++) {
    const code = view.getUint16(pc * 8, true);
    const jt = view.getUint8(pc * 8 + 2);
    const jf = view.getUint8(pc * 8 + 3);
    const k = view.getUint32(pc * 8 + 4, true);
    switch (code) {
      case 0x20: // ld [k]
        a = packet.getUint32(k, true);
        break;
      case 0x15: // jeq #k
        pc += a === k ? jt : jf;
        break;
      case 0x35: // jge #k
        pc += a >= k ? jt : jf;
        break;
      case 0x45: // jset #k
        pc += (a & k) >>> 0 !== 0 ? jt : jf;
        break;
      case 0x06: // ret #k
        return k;
      default:
        assert.fail(`opcode ${code.toString(16)} at ${pc}`);
    }
  }
  return assert.fail("the program ran off its end");
}

const policy = {
  deny: ["keyctl", "ptrace", "process_vm_readv", "open"],
  enosys: ["clone3"],
  denyFlags: [
    { syscall: "clone", arg: 0, mask: CLONE_NEWUSER },
    { syscall: "unshare", arg: 0, mask: CLONE_NEWUSER },
  ],
};

for (const arch of SECCOMP_ARCHES) {
  describe(`seccomp filter for ${arch} (run by a BPF interpreter)`, () => {
    const nr = (name: string) => syscallTable(arch)[name] as number;
    const program = buildSeccompFilter(policy, arch);
    const call = (name: string, args: bigint[] = []) =>
      run(program, { nr: nr(name), arch: AUDIT_ARCH[arch], args });

    it("fails each denied syscall with EPERM and clone3 with ENOSYS", () => {
      for (const name of ["keyctl", "ptrace", "process_vm_readv"]) assert.equal(call(name), EPERM);
      assert.equal(call("clone3"), ENOSYS);
    });

    it("allows everything else", () => {
      for (const name of ["read", "write", "openat", "execve", "exit_group", "futex", "mmap"])
        assert.equal(call(name), ALLOW, name);
    });

    it("denies clone and unshare only with CLONE_NEWUSER, whatever the other bits", () => {
      const fork = 0x01200011n; // CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD
      const thread = 0x003d0f00n;
      assert.equal(call("clone", [fork]), ALLOW);
      assert.equal(call("clone", [thread]), ALLOW);
      assert.equal(call("clone", [fork | BigInt(CLONE_NEWUSER)]), EPERM);
      assert.equal(call("unshare", [BigInt(CLONE_NEWNS)]), ALLOW);
      assert.equal(call("unshare", [BigInt(CLONE_NEWUSER | CLONE_NEWNS)]), EPERM);
      // The flag in the upper word is not CLONE_NEWUSER (the kernel takes unshare's int).
      assert.equal(call("unshare", [BigInt(CLONE_NEWUSER) << 32n]), ALLOW);
    });

    it("kills a syscall made through another ABI", () => {
      const other: SeccompArch = arch === "x86_64" ? "aarch64" : "x86_64";
      assert.equal(run(program, { nr: nr("read"), arch: AUDIT_ARCH[other] }), KILL_PROCESS);
      assert.equal(run(program, { nr: 3, arch: 0x40000003 }), KILL_PROCESS); // i386
      assert.equal(run(program, { nr: 3, arch: 0x40000028 }), KILL_PROCESS); // arm
      if (arch === "x86_64") {
        assert.equal(
          run(program, { nr: 0x40000000 | nr("keyctl"), arch: AUDIT_ARCH[arch] }),
          KILL_PROCESS,
          "x32's keyctl",
        );
        assert.equal(run(program, { nr: -1, arch: AUDIT_ARCH[arch] }), ENOSYS, "syscall(-1)");
      }
    });

    it("lets a full deny win over a flag rule on the same syscall", () => {
      const strict = buildSeccompFilter({ ...policy, deny: [...policy.deny, "clone"] }, arch);
      assert.equal(run(strict, { nr: nr("clone"), arch: AUDIT_ARCH[arch], args: [0n] }), EPERM);
    });
  });
}

describe("seccomp filter policy checks", () => {
  it("refuses a name no architecture has, naming it", () => {
    assert.throws(
      () => buildSeccompFilter({ deny: ["keyctrl"] }, "x86_64"),
      (err: unknown) =>
        err instanceof UnknownSyscallError &&
        err.code === "E_SECCOMP_SYSCALL" &&
        err.syscall === "keyctrl",
    );
  });

  it("skips a name only another architecture has", () => {
    const without = buildSeccompFilter({ deny: ["keyctl"] }, "aarch64");
    const withOpen = buildSeccompFilter({ deny: ["keyctl", "open", "fork"] }, "aarch64");
    assert.deepEqual(withOpen, without);
    const x86 = buildSeccompFilter({ deny: ["open"] }, "x86_64");
    const open = { nr: syscallTable("x86_64").open as number, arch: AUDIT_ARCH.x86_64 };
    assert.equal(run(x86, open), EPERM);
  });

  it("numbers syscalls as each ABI does (spot checks against the kernel's tables)", () => {
    const pick = (arch: SeccompArch, names: string[]) => names.map((n) => syscallTable(arch)[n]);
    const names = ["clone", "unshare", "keyctl", "ptrace", "clone3", "mseal", "file_setattr"];
    assert.deepEqual(pick("x86_64", names), [56, 272, 250, 101, 435, 462, 469]);
    assert.deepEqual(pick("aarch64", names), [220, 97, 219, 117, 435, 462, 469]);
  });

  it("is 8-byte little-endian sock_filter instructions starting with the arch load", () => {
    const program = buildSeccompFilter({ deny: ["keyctl"] }, "aarch64");
    assert.equal(program.length % 8, 0);
    assert.deepEqual([...program.subarray(0, 8)], [0x20, 0, 0, 0, 4, 0, 0, 0]);
    const view = new DataView(program.buffer);
    assert.equal(view.getUint32(12, true), AUDIT_ARCH.aarch64);
  });

  it("refuses a flag rule with a mask beyond 32 bits or a seventh argument", () => {
    assert.throws(
      () => buildSeccompFilter({ denyFlags: [{ syscall: "clone", arg: 6, mask: 1 }] }, "x86_64"),
      RangeError,
    );
    assert.throws(
      () =>
        buildSeccompFilter({ denyFlags: [{ syscall: "clone", arg: 0, mask: 2 ** 32 }] }, "x86_64"),
      RangeError,
    );
  });
});
