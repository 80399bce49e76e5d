import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { Cgroup, spawn, UnknownUserError, type WatchedProcess } from "../../native/index.js";
import { createSystemUser, type SystemUser } from "./system-user.js";

/** Fields of /proc/<pid>/status as a map. */
function status(pid: number): Map<string, string> {
  return new Map(
    readFileSync(`/proc/${pid}/status`, "utf8")
      .split("\n")
      .filter((l) => l.includes(":"))
      .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]),
  );
}

/** /proc/<pid>/stat fields after the command name (policy is field 41, rt_priority 40, nice 19). */
function stat(pid: number): string[] {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  return s.slice(s.lastIndexOf(")") + 2).split(" ");
}
const statField = (pid: number, n: number) => stat(pid)[n - 3];

/** One line of /proc/<pid>/limits, e.g. "Max open files". */
function limit(pid: number, name: string): string[] {
  const line = readFileSync(`/proc/${pid}/limits`, "utf8")
    .split("\n")
    .find((l) => l.startsWith(name)) as string;
  return line.slice(26).trim().split(/\s+/).slice(0, 2);
}

describe("spawn with attributes applied before exec", function () {
  this.timeout(20_000);
  let user: SystemUser;
  let group: Cgroup;
  const children: WatchedProcess[] = [];
  before(() => {
    user = createSystemUser("opspawn");
    group = Cgroup.own().createChild(`outpost-test-spawn-${process.pid}`, { rtRuntimeUs: 10_000 });
  });
  after(async () => {
    for (const c of children) c.kill("SIGKILL");
    await group.remove();
    user.remove();
  });
  const start = (options: Parameters<typeof spawn>[0]) => {
    const child = spawn(options);
    children.push(child);
    return child;
  };

  it("runs in the cgroup, with the affinity, SCHED_FIFO priority, uid/gid/groups and rlimits asked for", async () => {
    const child = start({
      command: "sleep",
      args: ["30"],
      cgroup: group,
      cpus: [1],
      sched: { policy: "fifo", priority: 42 },
      user: user.name,
      rlimits: { nofile: { soft: 123, hard: 456 }, memlock: { soft: 65536, hard: 131072 } },
      stdio: ["ignore", "ignore", "ignore"],
    });
    const name = group.path.split("/").pop() as string;
    const cgroups = readFileSync(`/proc/${child.pid}/cgroup`, "utf8");
    for (const c of ["cpu", "cpuset", "memory", "pids", "freezer"])
      assert.match(cgroups, new RegExp(`:${c}:.*/${name}\\n`));
    assert.match(cgroups, new RegExp(`^0::/.*${name}$`, "m"));
    const st = status(child.pid);
    assert.equal(st.get("Cpus_allowed_list"), "1");
    assert.equal(st.get("Uid"), `${user.uid}\t${user.uid}\t${user.uid}\t${user.uid}`);
    assert.equal(st.get("Gid"), `${user.gid}\t${user.gid}\t${user.gid}\t${user.gid}`);
    assert.equal(st.get("Groups"), String(user.gid));
    assert.equal(statField(child.pid, 41), "1", "policy SCHED_FIFO");
    assert.equal(statField(child.pid, 40), "42", "rt_priority");
    assert.deepEqual(limit(child.pid, "Max open files"), ["123", "456"]);
    assert.deepEqual(limit(child.pid, "Max locked memory"), ["65536", "131072"]);
    child.kill("SIGKILL");
    assert.deepEqual(await child.exited, { code: null, signal: "SIGKILL" });
  });

  it("starts a process in a group whose earlier processes were killed with kill()", async () => {
    // Guards against CLONE_INTO_CGROUP, which on Linux 6.18 SIGKILLs every child cloned
    // into a group that was ever cgroup.kill'ed: a restarted instance never ran.
    const reused = group.createChild("reused");
    try {
      const first = start({ command: "sleep", args: ["30"], cgroup: reused });
      await reused.kill();
      assert.deepEqual(await first.exited, { code: null, signal: "SIGKILL" });
      const again = start({ command: "sh", args: ["-c", "exit 5"], cgroup: reused });
      assert.deepEqual(await again.exited, { code: 5, signal: null });
      const late = start({ command: "sleep", args: ["30"], cgroup: reused });
      assert.deepEqual(reused.procs(), [late.pid], "the new process joined the reused group");
      late.kill("SIGKILL");
      await late.exited;
    } finally {
      await reused.remove();
    }
  });

  it("applies nice, umask, cwd, a new session and env; pipes stdout and reports the exit code", async () => {
    const child = start({
      command: "sh",
      args: ["-c", 'echo "$(umask) $(pwd) $GREETING"; exit 3'],
      env: { PATH: "/usr/bin:/bin", GREETING: "hello" },
      cwd: "/tmp",
      umask: 0o027,
      nice: 7,
      newSession: true,
      stdio: ["ignore", "pipe", "inherit"],
    });
    assert.equal(statField(child.pid, 19), "7", "nice");
    assert.equal(statField(child.pid, 6), String(child.pid), "session id");
    assert.equal(await text(child.stdout as NodeJS.ReadableStream), "0027 /tmp hello\n");
    assert.deepEqual(await child.exited, { code: 3, signal: null });
  });

  it("writes stdout and stderr to files opened before the uid switch", async () => {
    const dir = mkdtempSync(join(tmpdir(), "outpost-spawn-"));
    try {
      const child = start({
        command: "sh",
        args: ["-c", "echo out; echo err >&2"],
        user: user.name,
        stdio: ["ignore", { file: join(dir, "out") }, { file: join(dir, "err") }],
      });
      assert.deepEqual(await child.exited, { code: 0, signal: null });
      assert.equal(readFileSync(join(dir, "out"), "utf8"), "out\n");
      assert.equal(readFileSync(join(dir, "err"), "utf8"), "err\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports a program that cannot be executed as an ENOENT error from execve, not as exit 127", () => {
    assert.throws(() => start({ command: "/nonexistent/program" }), {
      code: "ENOENT",
      syscall: "execve",
      path: "/nonexistent/program",
    });
    assert.throws(() => start({ command: "no-such-command-outpost" }), {
      code: "ENOENT",
      syscall: "execvp",
    });
  });

  it("reports a missing cwd as an ENOENT error from chdir naming it", () => {
    assert.throws(() => start({ command: "true", cwd: "/nonexistent-dir" }), {
      code: "ENOENT",
      syscall: "chdir",
      path: "/nonexistent-dir",
    });
  });

  it("reports a permission failure after the uid switch as EACCES from execve", () => {
    assert.throws(
      () => start({ command: "/root/.outpost-none", user: user.name }),
      (err: NodeJS.ErrnoException) => {
        assert.equal(err.syscall, "execve");
        assert.ok(err.code === "EACCES" || err.code === "ENOENT");
        return true;
      },
    );
  });

  it("rejects an unknown user with UnknownUserError before forking", () => {
    assert.throws(
      () => start({ command: "true", user: "no-such-user-outpost" }),
      (err: UnknownUserError) => {
        assert.ok(err instanceof UnknownUserError);
        assert.equal(err.code, "E_UNKNOWN_USER");
        return true;
      },
    );
  });

  it("rejects a priority out of the policy's range with RangeError, and a nice with a RT policy with TypeError", () => {
    assert.throws(() => start({ command: "true", sched: { policy: "fifo", priority: 100 } }), {
      name: "RangeError",
      message: /priority 100 is out of range for fifo \(1\.\.99\)/,
    });
    assert.throws(
      () => start({ command: "true", sched: { policy: "other", priority: 5 } }),
      RangeError,
    );
    assert.throws(() => start({ command: "true", sched: { policy: "rr", nice: 3 } }), TypeError);
    assert.throws(() => start({ command: "true", cpus: [-2] }), RangeError);
    assert.throws(
      () => start({ command: "true", rlimits: { nofile: { soft: 10, hard: 5 } } }),
      RangeError,
    );
  });
});
