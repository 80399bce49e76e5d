import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CpuNotOnlineError,
  LatencyProbeAbortedError,
  type LatencyProbeOptions,
  probeLatency,
  readOnlineCpus,
} from "../../native/index.js";
import { repoRoot } from "../helpers/run-outpost.js";

interface TaskSched {
  tid: number;
  comm: string;
  processor: number;
  rtPriority: number;
  policy: number;
  cpusAllowed: string;
}

/** Every thread of this process as the kernel sees it (proc(5): stat fields 39-41). */
function tasks(): TaskSched[] {
  return readdirSync("/proc/self/task").flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const status = readFileSync(`/proc/self/task/${tid}/status`, "utf8");
      return [
        {
          tid: Number(tid),
          comm: readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim(),
          processor: Number(rest[36]),
          rtPriority: Number(rest[37]),
          policy: Number(rest[38]),
          cpusAllowed: /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? "",
        },
      ];
    } catch {
      return []; // the thread exited between readdir and read
    }
  });
}

const probeTasks = () => tasks().filter((t) => t.comm.startsWith("outpost-lat"));
const SCHED_OTHER = 0;
const SCHED_FIFO = 1;

async function until<T>(what: string, get: () => T | undefined, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("native latency probe", function () {
  this.timeout(20_000);
  const online = readOnlineCpus();
  const base: LatencyProbeOptions = {
    cpus: online,
    priority: 37,
    intervalUs: 1000,
    loops: 300,
    histogramMaxUs: 1000,
  };

  it("takes exactly `loops` samples per CPU with consistent min, avg, max and histogram", async () => {
    const result = await probeLatency(base);
    assert.deepEqual(
      result.cpus.map((c) => c.cpu),
      online,
    );
    for (const c of result.cpus) {
      assert.equal(c.samples, 300);
      assert.ok(c.minUs >= 0);
      assert.ok(c.minUs <= c.sumUs / c.samples && c.sumUs / c.samples <= c.maxUs);
      assert.equal(c.histogram.length, 1000);
      const inRange = c.histogram.reduce((a, b) => a + b, 0);
      assert.equal(inRange, c.samples - c.overflow);
      assert.equal(c.overflow > 0, c.maxUs >= 1000);
      assert.equal((c.histogram[c.minUs] ?? 0) > 0, c.minUs < 1000, "the minimum has its bucket");
    }
  });

  it("runs each thread SCHED_FIFO at the priority, pinned to its CPU, as read back by the thread", async () => {
    const result = await probeLatency({ ...base, loops: 20 });
    for (const c of result.cpus) {
      assert.equal(c.policy, "fifo");
      assert.equal(c.priority, 37);
      assert.deepEqual(c.affinity, [c.cpu]);
      assert.ok(c.tid > 0 && c.tid !== process.pid);
    }
  });

  it("leaves Node's own threads SCHED_OTHER while the kernel shows the probe threads FIFO and pinned", async () => {
    const controller = new AbortController();
    const run = probeLatency({ ...base, loops: 1_000_000, signal: controller.signal });
    run.catch(() => {});
    try {
      const probes = await until("every probe thread to be SCHED_FIFO", () => {
        const p = probeTasks();
        return p.length === online.length && p.every((t) => t.policy === SCHED_FIFO)
          ? p
          : undefined;
      });
      for (const t of probes) {
        const cpu = Number(t.comm.slice("outpost-lat".length));
        assert.equal(t.rtPriority, 37);
        assert.equal(t.cpusAllowed, String(cpu));
        assert.equal(t.processor, cpu);
      }
      const others = tasks().filter((t) => !t.comm.startsWith("outpost-lat"));
      assert.ok(others.length >= 5, "Node's main, libuv and V8 threads are listed");
      for (const t of others) {
        assert.equal(t.policy, SCHED_OTHER, `${t.comm} (${t.tid})`);
        assert.equal(t.rtPriority, 0);
      }
    } finally {
      controller.abort();
      await run.catch(() => {});
    }
  });

  it("locks only the probe threads' own stacks and histograms, and only during the run", async () => {
    const vmLck = () =>
      Number(/^VmLck:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);
    assert.equal(vmLck(), 0);
    const controller = new AbortController();
    const run = probeLatency({
      ...base,
      histogramMaxUs: 1000,
      loops: 1_000_000,
      lockMemory: true,
      signal: controller.signal,
    });
    run.catch(() => {});
    try {
      await until("the probe threads to run", () =>
        probeTasks().length === online.length ? true : undefined,
      );
      // 256 KiB of stack plus 8 KB of histogram (two pages) per CPU, nothing of Node's heap.
      assert.equal(vmLck(), online.length * (256 + 8));
      // Node keeps allocating and collecting meanwhile.
      const junk = Array.from({ length: 200_000 }, (_, i) => ({ i }));
      assert.equal(junk.length, 200_000);
    } finally {
      controller.abort();
      await run.catch(() => {});
    }
    assert.equal(vmLck(), 0);
  });

  it("ends a long run soon after abort, joins its threads and hands back the partial samples", async () => {
    const controller = new AbortController();
    const reason = new Error("operator pressed Ctrl-C");
    const run = probeLatency({ ...base, loops: 1_000_000, signal: controller.signal });
    await new Promise((r) => setTimeout(r, 300));
    const abortedAt = Date.now();
    controller.abort(reason);
    const err = await run.then(
      () => assert.fail("an aborted run must reject"),
      (e: unknown) => e,
    );
    const took = Date.now() - abortedAt;
    assert.ok(err instanceof LatencyProbeAbortedError);
    assert.equal(err.name, "AbortError");
    assert.equal(err.code, "ABORT_ERR");
    assert.equal(err.cause, reason);
    assert.ok(took < 1000, `settled ${took} ms after abort`);
    for (const c of err.partial.cpus) {
      assert.ok(c.samples > 0 && c.samples < 1_000_000, `${c.samples} samples`);
      assert.equal(
        c.histogram.reduce((a, b) => a + b, 0),
        c.samples - c.overflow,
      );
    }
    assert.deepEqual(probeTasks(), [], "no probe thread left");
  });

  it("rejects a signal aborted before the start without starting anything", async () => {
    await assert.rejects(
      probeLatency({ ...base, signal: AbortSignal.abort() }),
      (e: unknown) => e instanceof Error && e.name === "AbortError",
    );
    assert.deepEqual(probeTasks(), []);
  });

  it("rejects bad arguments with TypeError/RangeError before loading the addon", () => {
    // With the addon path pointing nowhere, any call reaching the addon would fail with
    // E_NATIVE_MISSING: each bad argument must be refused before that.
    const script = `
      import { probeLatency } from ${JSON.stringify(join(repoRoot, "native", "index.ts"))};
      const ok = { cpus: [0], priority: 50, intervalUs: 1000, loops: 10, histogramMaxUs: 100 };
      const cases = {
        priority0: { ...ok, priority: 0 },
        priority100: { ...ok, priority: 100 },
        intervalZero: { ...ok, intervalUs: 0 },
        intervalFraction: { ...ok, intervalUs: 1.5 },
        loopsZero: { ...ok, loops: 0 },
        cpusEmpty: { ...ok, cpus: [] },
        cpuTwice: { ...ok, cpus: [0, 0] },
        cpuOffline: { ...ok, cpus: [4096] },
        valid: ok,
      };
      const out = {};
      for (const [name, options] of Object.entries(cases)) {
        try { await probeLatency(options); out[name] = "resolved"; }
        catch (e) { out[name] = e.name + ":" + (e.code ?? "") + ":" + e.message; }
      }
      console.log(JSON.stringify(out));
    `;
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        cwd: repoRoot,
        env: { ...process.env, OUTPOST_NATIVE_ADDON: "/nonexistent/outpost.node" },
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, string>;
    assert.match(
      out.priority0 ?? "",
      /^RangeError::latency probe: priority must be in 1\.\.99, got 0/,
    );
    assert.match(out.priority100 ?? "", /^RangeError::.*priority/);
    assert.match(out.intervalZero ?? "", /^RangeError::.*intervalUs/);
    assert.match(out.intervalFraction ?? "", /^TypeError::.*intervalUs must be an integer/);
    assert.match(out.loopsZero ?? "", /^RangeError::.*loops/);
    assert.match(out.cpusEmpty ?? "", /^TypeError::.*cpus must be a non-empty array/);
    assert.match(out.cpuTwice ?? "", /^RangeError::.*CPU 0 is listed twice/);
    assert.match(
      out.cpuOffline ?? "",
      /^CpuNotOnlineError:E_CPU_NOT_ONLINE:CPU 4096 is not online \(online: /,
    );
    assert.match(out.valid ?? "", /^NativeAddonMissingError:E_NATIVE_MISSING:/);
  });

  it("names a CPU that is not online and lists those that are", async () => {
    await assert.rejects(
      probeLatency({ ...base, cpus: [online.length + 64] }),
      (e: unknown) =>
        e instanceof CpuNotOnlineError &&
        e instanceof RangeError &&
        e.cpu === online.length + 64 &&
        e.online.join() === online.join(),
    );
  });

  it("reports a failed syscall with its errno code, the syscall and the CPU (EPERM as nobody)", () => {
    const script = `
      import { probeLatency } from ${JSON.stringify(join(repoRoot, "native", "index.ts"))};
      try {
        await probeLatency({ cpus: [0], priority: 50, intervalUs: 1000, loops: 10, histogramMaxUs: 100 });
        console.log("{}");
      } catch (e) {
        console.log(JSON.stringify({ name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, cpu: e.cpu }));
      }
    `;
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        cwd: repoRoot,
        uid: 65534,
        gid: 65534,
        env: { ...process.env, HOME: "/tmp" },
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      name: "Error",
      code: "EPERM",
      errno: -1,
      syscall: "sched_setscheduler",
      cpu: 0,
    });
  });
});
