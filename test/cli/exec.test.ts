import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cgroup } from "../../native/index.js";
import { runOutpost } from "../helpers/run-outpost.js";
import { createSystemUser, type SystemUser } from "../native/system-user.js";

/** Groups `outpost exec` made below our own cgroup and left behind, in any hierarchy. */
function leftovers(): string[] {
  const own = Cgroup.own();
  const dirs = [own.dirs.unified, ...Object.values(own.dirs.v1)].filter(
    (d): d is string => d !== undefined,
  );
  return [...new Set(dirs)].flatMap((d) =>
    readdirSync(d)
      .filter((n) => n.startsWith("outpost-exec-"))
      .map((n) => join(d, n)),
  );
}

describe("outpost exec", function () {
  this.timeout(60_000);
  let user: SystemUser;
  let dir: string;
  before(() => {
    user = createSystemUser("opexec");
    dir = mkdtempSync(join(tmpdir(), "outpost-exec-test-"));
  });
  after(() => {
    user.remove();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => assert.deepEqual(leftovers(), [], "no cgroup left behind"));

  it("runs CMD in a fresh outpost cgroup with affinity, policy, user and limits, and passes its exit code through", () => {
    const r = runOutpost([
      "exec",
      "--cpus",
      "1",
      "--sched",
      "fifo:33",
      "--memory",
      "64M",
      "--pids",
      "20",
      "--cpu-quota",
      "0.5",
      "--user",
      user.name,
      "--",
      "sh",
      "-c",
      'cat /proc/self/cgroup; grep -E "^(Uid|Cpus_allowed_list):" /proc/self/status; cut -d" " -f40,41 /proc/self/stat; exit 9',
    ]);
    assert.equal(r.status, 9, r.stderr);
    assert.match(r.stdout, /^4:memory:\/.*\/outpost-exec-\d+$/m);
    assert.match(r.stdout, /^1:cpu:\/.*outpost-exec-\d+$/m);
    assert.match(r.stdout, /^Cpus_allowed_list:\t1$/m);
    assert.match(r.stdout, new RegExp(`^Uid:\\t${user.uid}\\t`, "m"));
    assert.match(r.stdout, /^33 1$/m, "rt_priority 33, policy SCHED_FIFO");
  });

  it("exits 128+signal when CMD is killed, and writes the usage report", () => {
    const report = join(dir, "report.json");
    const r = runOutpost(["exec", "--report", report, "--", "sh", "-c", "kill -TERM $$"]);
    assert.equal(r.status, 128 + 15);
    const doc = JSON.parse(readFileSync(report, "utf8"));
    assert.equal(doc.exitCode, null);
    assert.equal(doc.signal, "SIGTERM");
    assert.equal(typeof doc.cpuUsageUs, "number");
    assert.ok(doc.memoryPeakBytes > 0);
  });

  it("reports an OOM kill past --memory in the report", () => {
    const report = join(dir, "oom.json");
    const r = runOutpost([
      "exec",
      "--memory",
      "48M",
      "--report",
      report,
      "--",
      process.execPath,
      "-e",
      "const k = []; for (;;) k.push(Buffer.alloc(8 << 20, 1));",
    ]);
    assert.equal(r.status, 137);
    assert.equal(JSON.parse(readFileSync(report, "utf8")).oomKills, 1);
  });

  it("exits 127 with one line naming CMD and the reason when CMD cannot be executed", () => {
    const r = runOutpost(["exec", "--", "/nonexistent/cmd"]);
    assert.equal(r.status, 127);
    assert.equal(
      r.stderr,
      "outpost: cannot execute '/nonexistent/cmd': ENOENT: No such file or directory, execve '/nonexistent/cmd'\n",
    );
  });

  it("exits 2 with one clear line for an unknown user, an out-of-range priority or a bad size", () => {
    const bad = [
      [["--user", "no-such-user-outpost"], /^outpost: --user: unknown user 'no-such-user-outpost'/],
      [["--sched", "fifo:100"], /priority 100 is out of range for fifo \(1\.\.99\)/],
      [["--memory", "lots"], /--memory <size>' argument 'lots' is invalid/],
      [["--sched", "fifo:10", "--nice", "3"], /--nice applies to the other and batch policies/],
    ] as const;
    for (const [options, message] of bad) {
      const r = runOutpost(["exec", ...options, "--", "true"]);
      assert.equal(r.status, 2, `${options.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.split("\n").length, 2, "exactly one line");
      assert.match(r.stderr, message);
    }
  });

  it("removes its cgroup even when CMD leaves a process running", () => {
    const r = runOutpost(["exec", "--", "sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $!; exit 0"]);
    assert.equal(r.status, 0, r.stderr);
    const straggler = Number(r.stdout.trim());
    assert.ok(straggler > 0);
    // Killed with its group (a zombie until init reaps it at most).
    const state = existsSync(`/proc/${straggler}/stat`)
      ? readFileSync(`/proc/${straggler}/stat`, "utf8").split(") ")[1]?.[0]
      : "gone";
    assert.ok(state === "gone" || state === "Z", `sleep ${straggler} is in state ${state}`);
  });
});
