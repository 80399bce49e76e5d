import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HostileNode } from "./hostile-node.js";

/**
 * Issue 24 item: every process of a partition runs with no_new_privs and the default
 * seccomp filter. Each hostile release tries one way out on real processes as root,
 * records what the kernel answered and keeps running; the agent keeps converging and
 * reporting the bystander beside it.
 */
describe("security: partitions run with no_new_privs and a seccomp filter", function () {
  this.timeout(180_000);
  const node = new HostileNode();

  before(() => node.start());
  after(() => node.close());

  /** The hostile instance's log, as the agent keeps it. */
  function logOf(partition: number, process: string): string {
    return readFileSync(join(node.agentData, "logs", `p${partition}`, `${process}.log`), "utf8");
  }

  /** The fields that matter of /proc/PID/status for every live process of the partition. */
  function sandboxOf(partition: number): { pid: number; nnp: string; seccomp: string }[] {
    return node.processesOf(node.partitionUid(partition), partition).all.map((pid) => {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      return {
        pid,
        nnp: /^NoNewPrivs:\s+(\d)/m.exec(status)?.[1] ?? "?",
        seccomp: /^Seccomp:\s+(\d)/m.exec(status)?.[1] ?? "?",
      };
    });
  }

  async function hostile(name: string, processes: string): Promise<number> {
    const url = node.release(
      name,
      `apiVersion: outpost/v1
name: ${name}
version: 1.0.0
instance:
  processes:
${processes}
  promises:
    - { name: tried, file: tried, interval: 1s }
`,
    );
    await node.supplyAndRequest(name, url);
    const ready = await node.ready(name, 30_000);
    const partition = ready.partition + 1;
    const processes_ = sandboxOf(partition);
    assert.ok(processes_.length > 0, "its processes run");
    for (const p of processes_)
      assert.deepEqual([p.nnp, p.seccomp], ["1", "2"], `pid ${p.pid} has NoNewPrivs and a filter`);
    return partition;
  }

  it("unshare -U (a user namespace, with root inside it) fails with EPERM", async () => {
    const partition = await hostile(
      "userns",
      `    - name: escape
      command: ["/bin/sh", "-c", "unshare -U -r id; echo \\"unshare exit $?\\"; touch tried; exec sleep 3600"]`,
    );
    const log = logOf(partition, "escape");
    assert.match(log, /unshare failed: Operation not permitted/);
    assert.match(log, /^unshare exit 1$/m);
    assert.doesNotMatch(log, /uid=0\(root\)/);
    await node.stillConverging();
    assert.equal(
      (await node.show("userns"))?.status,
      "running",
      "the hostile instance keeps running",
    );
  });

  it("the kernel keyring (add_key, keyctl, request_key) answers EPERM", async () => {
    // x86_64 and aarch64 numbers; KEY_SPEC_USER_KEYRING is -4.
    const script = [
      "import ctypes, os, platform",
      "n = {'x86_64': (248, 250, 249), 'aarch64': (217, 219, 218)}[platform.machine()]",
      "libc = ctypes.CDLL(None, use_errno=True)",
      "libc.syscall.restype = ctypes.c_long",
      "def call(name, nr, *args):",
      "    r = libc.syscall(ctypes.c_long(nr), *args)",
      "    print(name, 'errno', ctypes.get_errno() if r < 0 else 'none', flush=True)",
      "call('add_key', n[0], b'user', b'stolen', b'x', ctypes.c_long(1), ctypes.c_long(-4))",
      "call('keyctl', n[1], ctypes.c_long(0), ctypes.c_long(-4), ctypes.c_long(1))",
      "call('request_key', n[2], b'user', b'stolen', None, ctypes.c_long(-4))",
      "open('tried', 'w').close()",
      "os.execv('/bin/sleep', ['sleep', '3600'])",
    ].join("\n");
    const partition = await hostile(
      "keyring",
      `    - name: keys
      command: ["/usr/bin/python3", "-c", ${JSON.stringify(script)}]`,
    );
    const log = logOf(partition, "keys");
    assert.deepEqual(log.trim().split("\n"), [
      "add_key errno 1",
      "keyctl errno 1",
      "request_key errno 1",
    ]);
    await node.stillConverging();
  });

  it("ptrace and process_vm_readv of a sibling process answer EPERM; the sibling runs on untraced", async () => {
    const script = [
      "import ctypes, os, platform, time",
      "n = {'x86_64': (101, 310), 'aarch64': (117, 270)}[platform.machine()]",
      "libc = ctypes.CDLL(None, use_errno=True)",
      "libc.syscall.restype = ctypes.c_long",
      "while not os.path.exists('victim.pid'): time.sleep(0.1)",
      "pid = int(open('victim.pid').read())",
      "def call(name, nr, *args):",
      "    r = libc.syscall(ctypes.c_long(nr), *args)",
      "    print(name, 'errno', ctypes.get_errno() if r < 0 else 'none', flush=True)",
      "call('ptrace_attach', n[0], ctypes.c_long(16), ctypes.c_long(pid), None, None)",
      "call('ptrace_seize', n[0], ctypes.c_long(0x4206), ctypes.c_long(pid), None, None)",
      "class iovec(ctypes.Structure): _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]",
      "buf = ctypes.create_string_buffer(8)",
      "local = iovec(ctypes.cast(buf, ctypes.c_void_p), 8)",
      "remote = iovec(0x400000, 8)",
      "call('process_vm_readv', n[1], ctypes.c_long(pid), ctypes.byref(local), ctypes.c_long(1), ctypes.byref(remote), ctypes.c_long(1), ctypes.c_long(0))",
      "open('tried', 'w').close()",
      "os.execv('/bin/sleep', ['sleep', '3600'])",
    ].join("\n");
    const partition = await hostile(
      "tracer",
      `    - name: victim
      command: ["/bin/sh", "-c", "echo $$ > victim.pid; exec sleep 3600"]
    - name: attacker
      command: ["/usr/bin/python3", "-c", ${JSON.stringify(script)}]`,
    );
    assert.deepEqual(logOf(partition, "attacker").trim().split("\n"), [
      "ptrace_attach errno 1",
      "ptrace_seize errno 1",
      "process_vm_readv errno 1",
    ]);
    const victim = Number(
      readFileSync(join(node.agentData, "partitions", `p${partition}`, "victim.pid"), "utf8"),
    );
    const status = readFileSync(`/proc/${victim}/status`, "utf8");
    assert.match(status, /^TracerPid:\s+0$/m, "nobody traces the victim");
    assert.match(status, /^State:\s+S/m, "the victim sleeps on, not stopped");
    await node.stillConverging();
    assert.equal((await node.show("tracer"))?.status, "running");
  });
});
