import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { detectCgroupMode } from "../../native/index.js";
import { runOutpost } from "../helpers/run-outpost.js";

/** This host's /proc hidepid, from mountinfo's super options of the last /proc mount. */
function hostHidepid(): boolean {
  const proc = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((l) => l.split(" ")[4] === "/proc")
    .at(-1);
  const superOptions = proc?.split(" - ")[1]?.split(" ")[2] ?? "";
  const value = /(?:^|,)hidepid=([^,]+)/.exec(superOptions)?.[1];
  return value !== undefined && value !== "0" && value !== "off";
}

function hostConfig(): string | undefined {
  try {
    return gunzipSync(readFileSync("/proc/config.gz")).toString();
  } catch {
    try {
      return readFileSync(
        `/boot/config-${readFileSync("/proc/sys/kernel/osrelease", "utf8").trim()}`,
        "utf8",
      );
    } catch {
      return undefined;
    }
  }
}

describe("outpost agent audit (this host)", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "outpost-agent-audit-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("--json reports this host's real state, every check with why and, when not ok, what to do; exit 3 unless all hold", () => {
    const r = runOutpost(["agent", "audit", "--json", "--data", join(dir, "agent")]);
    const report = JSON.parse(r.stdout) as {
      verdict: string;
      data: string;
      checks: { id: string; status: string; detail: string; remedy?: string }[];
    };
    assert.equal(report.data, join(dir, "agent"));
    assert.deepEqual(
      report.checks.map((c) => c.id),
      ["proc-hidepid", "project-quota", "cgroup-bpf", "seccomp", "cgroups"],
    );
    const status = (id: string) => report.checks.find((c) => c.id === id)?.status;
    assert.equal(status("proc-hidepid"), hostHidepid() ? "ok" : "missing");
    const seccompLine = /^Seccomp:/m.test(readFileSync("/proc/self/status", "utf8"));
    assert.equal(status("seccomp"), seccompLine ? "ok" : "missing");
    assert.equal(status("cgroups"), "ok", `cgroup ${detectCgroupMode()}`);
    const cgroup2 = /\scgroup2\s/.test(readFileSync("/proc/self/mounts", "utf8"));
    const config = hostConfig();
    assert.equal(
      status("cgroup-bpf"),
      !cgroup2
        ? "missing"
        : config === undefined
          ? "unknown"
          : /^CONFIG_CGROUP_BPF=y$/m.test(config) && /^CONFIG_BPF_SYSCALL=y$/m.test(config)
            ? "ok"
            : "missing",
    );
    for (const c of report.checks) {
      assert.ok(["ok", "missing", "unknown"].includes(c.status), c.id);
      assert.ok(c.detail.length > 0, c.id);
      assert.equal(c.remedy === undefined, c.status === "ok", `${c.id}: a remedy iff not ok`);
    }
    const allOk = report.checks.every((c) => c.status === "ok");
    assert.equal(report.verdict === "ok", allOk);
    assert.equal(r.status, allOk ? 0 : 3, r.stderr);
  });

  it("prints one line per check and the verdict; takes the data directory from --config", () => {
    const config = join(dir, "agent.yaml");
    writeFileSync(config, `data: ${join(dir, "from-config")}\n`);
    const r = runOutpost(["agent", "audit", "--config", config]);
    assert.match(r.stdout, new RegExp(`^data directory: ${join(dir, "from-config")}$`, "m"));
    assert.match(r.stdout, /^(OK|MISSING|UNKNOWN) +proc-hidepid +\S/m);
    assert.match(r.stdout, /^verdict: (ok|missing|unknown)$/m);
    if (!hostHidepid())
      assert.match(
        r.stdout,
        /remedy: add `proc \/proc proc defaults,hidepid=invisible 0 0` to \/etc\/fstab/,
      );
  });
});
