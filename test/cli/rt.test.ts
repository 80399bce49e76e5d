import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { release, version } from "node:os";
import { join } from "node:path";
import { detectCgroupMode, readOnlineCpus } from "../../native/index.js";
import { repoRoot, runOutpost } from "../helpers/run-outpost.js";

interface CpuJson {
  cpu: number;
  min: number;
  avg: number;
  max: number;
  p99: number | null;
  samples: number;
  histogram: [number, number][];
}

describe("outpost rt", function () {
  this.timeout(30_000);
  const online = readOnlineCpus();

  describe("rt info", () => {
    it("--json reports the kernel, each PREEMPT_RT signal with the verdict, cgroups, CPUs and boot params", () => {
      const r = runOutpost(["rt", "info", "--json"]);
      assert.equal(r.status, 0, r.stderr);
      const info = JSON.parse(r.stdout);
      assert.equal(info.kernel.release, release());
      assert.equal(info.kernel.version, version());
      const { signals, verdict } = info.preemptRt;
      assert.deepEqual(Object.keys(signals).sort(), [
        "kernelConfig",
        "sysKernelRealtime",
        "unameVersion",
      ]);
      assert.equal(signals.unameVersion, /PREEMPT[_ ]RT/.test(version()));
      assert.equal(
        signals.sysKernelRealtime,
        existsSync("/sys/kernel/realtime")
          ? readFileSync("/sys/kernel/realtime", "utf8").trim() === "1"
          : null,
      );
      assert.equal(
        verdict,
        signals.sysKernelRealtime === true || signals.unameVersion || signals.kernelConfig === true,
      );
      assert.equal(info.cgroupMode, detectCgroupMode());
      assert.deepEqual(info.cpus.online, online);
      assert.ok(Array.isArray(info.cpus.isolated));
      assert.ok(info.cpus.cores.length >= 1 && info.cpus.nodes.length >= 1);
      assert.equal(typeof info.kernelCmdline, "object");
    });

    it("on this non-RT test kernel says no, naming each signal", () => {
      const r = runOutpost(["rt", "info"]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^kernel +\S+/m);
      assert.match(
        r.stdout,
        /^PREEMPT_RT +no — \/sys\/kernel\/realtime: (missing|no), uname -v: no, CONFIG_PREEMPT_RT: (no|no config found)/m,
      );
      assert.match(r.stdout, /^online CPUs +\d/m);
      assert.match(r.stdout, /^cgroups +(v1|v2|hybrid)$/m);
    });
  });

  describe("rt latency", () => {
    it("--json prints per CPU min, avg, max, p99, samples and the [us, count] histogram in µs", () => {
      const r = runOutpost([
        "rt",
        "latency",
        "--json",
        "--cpus",
        "0",
        "--priority",
        "42",
        "--interval",
        "500",
        "--loops",
        "200",
      ]);
      assert.equal(r.status, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as { priority: number; interval: number; cpus: CpuJson[] };
      assert.equal(doc.priority, 42);
      assert.equal(doc.interval, 500);
      assert.equal(doc.cpus.length, 1);
      const [c] = doc.cpus;
      assert.ok(c);
      assert.equal(c.cpu, 0);
      assert.equal(c.samples, 200);
      assert.ok(c.min <= c.avg && c.avg <= c.max);
      for (const [us, count] of c.histogram) assert.ok(Number.isInteger(us) && count > 0);
      assert.ok(c.histogram.reduce((n, [, count]) => n + count, 0) <= 200);
      assert.ok(c.p99 === null || (c.p99 >= c.min && c.p99 <= c.max));
    });

    it("prints a table, one row per CPU, by default", () => {
      const r = runOutpost(["rt", "latency", "--loops", "50"]);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split("\n");
      assert.match(lines[0] ?? "", /^SCHED_FIFO 80, interval 1000 µs, 50 loops/);
      assert.match(lines[1] ?? "", /^CPU +samples +min +avg +p50 +p99 +p99\.9 +max/);
      assert.equal(lines.length, 2 + online.length);
      for (const [i, cpu] of online.entries())
        assert.match(lines[2 + i] ?? "", new RegExp(`^ *${cpu} +50 +\\d+`));
    });

    it("refuses a CPU that is not online with exit 2, naming it and the online ones", () => {
      const missing = (online.at(-1) ?? 0) + 6;
      const r = runOutpost(["rt", "latency", "--cpus", String(missing)]);
      assert.equal(r.status, 2);
      assert.equal(r.stdout, "");
      assert.equal(
        r.stderr,
        `outpost: --cpus: CPU ${missing} is not online (online: ${online.length === 1 ? "0" : `0-${online.at(-1)}`})\n`,
      );
    });

    it("refuses out-of-range or malformed values with exit 2 and one line", () => {
      for (const [args, message] of [
        [
          ["--priority", "0"],
          /^outpost: option '--priority <prio>' argument '0' is invalid\. must be in 1\.\.99\.\n$/,
        ],
        [["--priority", "100"], /argument '100' is invalid\. must be in 1\.\.99\./],
        [["--interval", "0"], /^outpost: option '--interval <us>' argument '0' is invalid/],
        [
          ["--loops", "ten"],
          /^outpost: option '--loops <n>' argument 'ten' is invalid\. not a whole number\.\n$/,
        ],
        [
          ["--cpus", "1-a"],
          /^outpost: option '--cpus <list>' argument '1-a' is invalid\. '1-a' is not a CPU number or range/,
        ],
      ] as const) {
        const r = runOutpost(["rt", "latency", ...args]);
        assert.equal(r.status, 2, args.join(" "));
        assert.match(r.stderr, message);
        assert.equal(r.stderr.split("\n").length, 2, "one line");
      }
    });

    it("on Ctrl-C prints the partial results and exits 130", async () => {
      const child = spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          join(repoRoot, "cli", "main.ts"),
          "rt",
          "latency",
          "--json",
          "--cpus",
          "0",
          "--loops",
          "1000000",
        ],
        { cwd: repoRoot },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => {
        stdout += d;
      });
      child.stderr.on("data", (d: Buffer) => {
        stderr += d;
      });
      // Interrupt once the probe thread runs (it names itself outpost-lat0).
      const deadline = Date.now() + 15_000;
      while (!probeRunning(child.pid ?? 0)) {
        assert.ok(Date.now() < deadline, "probe thread never started");
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 100));
      child.kill("SIGINT");
      const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
      assert.equal(status, 130, stderr);
      const doc = JSON.parse(stdout) as { cpus: CpuJson[] };
      const samples = doc.cpus[0]?.samples ?? 0;
      assert.ok(samples > 0 && samples < 1_000_000);
      assert.equal(
        stderr,
        `outpost: latency test interrupted after ${samples} of 1000000 loops; partial results above\n`,
      );
    });
  });
});

/** Whether process `pid` has its probe thread (named outpost-lat<cpu>) running. */
function probeRunning(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).some((tid) => {
      try {
        return readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").startsWith("outpost-lat");
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}
