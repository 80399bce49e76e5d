import { strict as assert } from "node:assert";
import { chmodSync, chownSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import {
  buildSeccompFilter,
  hostSeccompArch,
  type SpawnOptions,
  spawn,
  syscallTable,
} from "../../native/index.js";
import { createSystemUser, type SystemUser } from "./system-user.js";

const CLONE_NEWUSER = 0x10000000;
const filter = buildSeccompFilter(
  {
    deny: ["keyctl", "ptrace", "process_vm_readv"],
    enosys: ["clone3"],
    denyFlags: [
      { syscall: "clone", arg: 0, mask: CLONE_NEWUSER },
      { syscall: "unshare", arg: 0, mask: CLONE_NEWUSER },
    ],
  },
  hostSeccompArch(),
);
const nr = (name: string) => syscallTable(hostSeccompArch())[name] as number;

/**
 * A python3 (the system's) that makes raw syscalls, each argument `NAME=NR[:ARG0]`
 * (other arguments 0), and prints `NAME ERRNO` or `NAME ok` per call.
 */
const RAW_SYSCALLS = `
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
for arg in sys.argv[1:]:
    name, call = arg.split("=")
    nr, arg0 = (call.split(":") + ["0"])[:2]
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(int(nr)), ctypes.c_long(int(arg0, 0)), *[ctypes.c_long(0)] * 4)
    print(name, ctypes.get_errno() if r < 0 else "ok")
`;

describe("spawn with no_new_privs and a seccomp filter", function () {
  this.timeout(30_000);
  let user: SystemUser;
  before(() => {
    user = createSystemUser("opsand");
  });
  after(() => user.remove());

  async function output(options: SpawnOptions): Promise<{ out: string; code: number | null }> {
    const child = spawn({ user: user.name, stdio: ["ignore", "pipe", "pipe"], ...options });
    const [out, err] = await Promise.all([
      text(child.stdout as NodeJS.ReadableStream),
      text(child.stderr as NodeJS.ReadableStream),
    ]);
    const { code } = await child.exited;
    return { out: out + err, code };
  }

  it("shows NoNewPrivs: 1 and Seccomp: 2 in the child's /proc status", async () => {
    const child = spawn({
      command: "sleep",
      args: ["30"],
      user: user.name,
      noNewPrivs: true,
      seccomp: filter,
    });
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      assert.match(status, /^NoNewPrivs:\s+1$/m);
      assert.match(status, /^Seccomp:\s+2$/m);
      assert.match(status, /^Seccomp_filters:\s+1$/m);
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
  });

  it("fails the denied syscalls with EPERM and clone3 with ENOSYS; without the filter they pass", async () => {
    // keyctl(KEYCTL_GET_KEYRING_ID, 0): EINVAL once let through; ptrace(PTRACE_SEIZE,
    // pid 0): ESRCH; clone3 with a NULL struct of size 0: EINVAL.
    const calls = [
      `keyctl=${nr("keyctl")}`,
      `ptrace=${nr("ptrace")}:0x4206`,
      `clone3=${nr("clone3")}`,
      `getpid=${nr("getpid")}`,
    ];
    const args = ["-c", RAW_SYSCALLS, ...calls];
    const sandboxed = await output({
      command: "/usr/bin/python3",
      args,
      noNewPrivs: true,
      seccomp: filter,
    });
    assert.equal(sandboxed.out, "keyctl 1\nptrace 1\nclone3 38\ngetpid ok\n");
    const open = await output({ command: "/usr/bin/python3", args });
    assert.equal(open.out, "keyctl 22\nptrace 3\nclone3 22\ngetpid ok\n");
  });

  it("refuses unshare -U with 'Operation not permitted', which the same user may do without it", async () => {
    const refused = await output({
      command: "unshare",
      args: ["-U", "true"],
      noNewPrivs: true,
      seccomp: filter,
    });
    assert.equal(refused.code, 1);
    assert.match(refused.out, /Operation not permitted/);
    const allowed = await output({ command: "unshare", args: ["-U", "true"] });
    assert.equal(allowed.code, 0, allowed.out);
  });

  it("runs threads: python's threading and node's worker_threads (clone3 falls back to clone)", async () => {
    const python = await output({
      command: "/usr/bin/python3",
      args: [
        "-c",
        "import threading; out = []; t = [threading.Thread(target=out.append, args=(i,)) for i in range(4)]; [x.start() for x in t]; [x.join() for x in t]; print(sorted(out))",
      ],
      noNewPrivs: true,
      seccomp: filter,
    });
    assert.deepEqual(python, { out: "[0, 1, 2, 3]\n", code: 0 });
    const node = await output({
      command: process.execPath,
      args: [
        "-e",
        "const { Worker } = require('node:worker_threads'); new Worker('require(\"node:worker_threads\").parentPort.postMessage(6 * 7)', { eval: true }).on('message', (m) => console.log(m))",
      ],
      noNewPrivs: true,
      seccomp: filter,
    });
    assert.deepEqual(node, { out: "42\n", code: 0 });
  });

  it("gives a setuid-root program no euid 0 under no_new_privs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "outpost-nnp-"));
    try {
      chmodSync(dir, 0o755);
      const id = join(dir, "id");
      copyFileSync("/usr/bin/id", id);
      chownSync(id, 0, 0);
      chmodSync(id, 0o4755);
      const plain = await output({ command: id, args: [] });
      assert.match(plain.out, /euid=0\(root\)/, "the setuid bit works without it");
      const nnp = await output({ command: id, args: [], noNewPrivs: true });
      assert.doesNotMatch(nnp.out, /euid=/);
      assert.match(nnp.out, new RegExp(`^uid=${user.uid}\\(`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports a filter the kernel refuses as an error from seccomp", () => {
    // Not root and no no_new_privs: the kernel says EACCES.
    assert.throws(() => spawn({ command: "true", user: user.name, seccomp: filter }), {
      code: "EACCES",
      syscall: "seccomp",
    });
  });

  it("checks the program's shape before fork", () => {
    assert.throws(() => spawn({ command: "true", seccomp: new Uint8Array(12) }), RangeError);
    assert.throws(() => spawn({ command: "true", seccomp: new Uint8Array(0) }), RangeError);
    assert.throws(
      () => spawn({ command: "true", seccomp: [1, 2] as unknown as Uint8Array }),
      TypeError,
    );
  });
});
