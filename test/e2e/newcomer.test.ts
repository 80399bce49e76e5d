import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  agentAccounts,
  derivedPrefix,
  removeCgroupTree,
  uninstallAgent,
} from "../../agent/index.js";
import type { InstanceView } from "../../master/index.js";
import { Cgroup, spawn, type WatchedProcess } from "../../native/index.js";
import { demoStatus, startDemoProcess, startMaster, stopMaster } from "../helpers/e2e-stack.js";
import { repoRoot, runOutpost } from "../helpers/run-outpost.js";
import { eventually } from "../helpers/until.js";

/**
 * The issue "What a person meets first", replayed on real processes: a demo run as root
 * and stopped with SIGINT leaves no group and no process, a second clone's demo adopts
 * the first one's state, the suite's sensitive tests pass right after, `--reset` leaves
 * nothing; then a newcomer's release mistakes reach the master, a request made before
 * the node said hello waits, logs read as one line per event, and a descriptor is
 * checked offline.
 */
describe("e2e: what a newcomer meets first", function () {
  this.timeout(600_000);
  let tmp: string;
  let group: Cgroup;
  let demo: WatchedProcess | undefined;

  /** Every `cgroup.procs` below the test's group, its own included. */
  function groupsBelow(): string[] {
    const root = group.dirs.v1.cpu ?? group.path;
    return readdirSync(root, { recursive: true, encoding: "utf8" })
      .filter((p) => p.endsWith("cgroup.procs"))
      .map((p) => join(root, p));
  }

  /** `outpost demo` from `root`'s built CLI, as the README runs it. */
  async function startDemo(root: string, state: string): Promise<{ url: string; token: string }> {
    const started = await startDemoProcess({ root, state, cgroup: group, logDir: tmp });
    demo = started.process;
    return started;
  }

  const status = demoStatus;

  async function stopDemo(): Promise<void> {
    demo?.kill("SIGINT");
    assert.equal((await demo?.exited)?.code, 0, "the demo stops cleanly");
    demo = undefined;
  }

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-e2e-newcomer-"));
    chmodSync(tmp, 0o711);
    group = Cgroup.own().createChild(`outpost-test-e2e-newcomer-${process.pid}`);
  });

  after(async () => {
    demo?.kill("SIGKILL");
    await demo?.exited;
    if (existsSync(join(tmp, "state"))) await uninstallAgent(join(tmp, "state", "agent"));
    if (group) await removeCgroupTree(group);
    rmSync(tmp, { recursive: true, force: true });
  });

  it("steps 1–3: a stopped demo leaves no group or process; another clone's demo adopts its state; the sensitive tests pass right after; --reset leaves nothing", async () => {
    const state = join(tmp, "state");
    const prefix = derivedPrefix(join(state, "agent"));
    const first = await startDemo(repoRoot, state);
    const before = await eventually("records at the master", 60_000, async () => {
      const s = await status(first);
      const n = s.telemetry.nodes.demo?.records ?? 0;
      return n > 5 && s.instances.find((i) => i.name === "collector")?.state === "ready"
        ? n
        : undefined;
    });
    await stopDemo();
    assert.deepEqual(groupsBelow(), [join(group.dirs.v1.cpu ?? group.path, "cgroup.procs")]);
    assert.ok(agentAccounts(prefix).length > 0, "its accounts stay for the next run");
    // What the stop killed may take a moment to be gone from the process table.
    await eventually("nothing running as its partition user", 10_000, () =>
      spawnSync("pgrep", ["-u", `${prefix}p1`, "-r", "R,S,D,T"]).status === 1 ? true : undefined,
    );

    // A second clone: the same sources elsewhere, its own dist and release.
    const clone = join(tmp, "clone2");
    mkdirSync(join(clone, "collector"), { recursive: true });
    for (const f of ["package.json", "binding.gyp"]) cpSync(join(repoRoot, f), join(clone, f));
    cpSync(join(repoRoot, "dist"), join(clone, "dist"), { recursive: true });
    cpSync(join(repoRoot, "collector", "release"), join(clone, "collector", "release"), {
      recursive: true,
    });
    for (const d of ["node_modules", "build"]) symlinkSync(join(repoRoot, d), join(clone, d));
    const second = await startDemo(clone, state);
    const adopted = await eventually(
      "the collector switched to the second clone",
      60_000,
      async () => {
        const s = await status(second);
        const c = s.instances.find((i) => i.name === "collector");
        const n = s.telemetry.nodes.demo?.records ?? 0;
        return c?.software === join(clone, "collector", "release", "software.yaml") &&
          c.state === "ready" &&
          n > before + 5
          ? s
          : undefined;
      },
    );
    assert.equal(adopted.instances.filter((i) => i.name === "collector").length, 1);
    const query = runOutpost(["telemetry", "query", "--node", "demo", "--json"], {
      env: { OUTPOST_MASTER: second.url.replace(/\/$/, ""), OUTPOST_TOKEN: second.token },
    });
    assert.equal(query.status, 0, query.stderr);
    assert.deepEqual(JSON.parse(query.stdout).gaps, [], "no buffered record was lost");
    await stopDemo();
    assert.deepEqual(groupsBelow(), [join(group.dirs.v1.cpu ?? group.path, "cgroup.procs")]);

    // Step 2: what failed after a demo before, run right after this one stopped, beside
    // (not below) where it ran: the RT tests need exclusive cpusets next to the root's.
    // This test's own group would be a sibling spanning every CPU, so it goes first.
    await group.remove();
    const mocha = spawnSync(
      process.execPath,
      [
        join(repoRoot, "node_modules", "mocha", "bin", "mocha.js"),
        "test/bench/converge.test.ts",
        "test/realtime/cores/cpuset-partition.test.ts",
        "test/realtime/plc-instance.test.ts",
        "test/e2e/agent.test.ts",
      ],
      { cwd: repoRoot, encoding: "utf8", timeout: 300_000 },
    );
    group = Cgroup.own().createChild(`outpost-test-e2e-newcomer-${process.pid}`);
    assert.equal(mocha.status, 0, `${mocha.stdout}\n${mocha.stderr}`);
    assert.match(mocha.stdout, /\d+ passing/);

    const reset = spawnSync(
      process.execPath,
      [join(repoRoot, "dist", "cli", "main.js"), "demo", "--reset", "--dir", state],
      { cwd: repoRoot, encoding: "utf8" },
    );
    assert.equal(reset.status, 0, reset.stderr);
    assert.match(reset.stdout, /^Outpost demo reset: removed .*, \d+ account\(s\)/);
    assert.deepEqual(agentAccounts(prefix), [], "no account left");
    assert.ok(!existsSync(state), "no state left");
  });

  it("steps 4–7: release mistakes reach the master, an early request waits, logs are one line per event, descriptors check offline", async () => {
    const { master, started, env } = await startMaster(join(tmp, "master"));
    const agentData = join(tmp, "agent");
    let agent: WatchedProcess | undefined;
    const cli = (...args: string[]) => {
      const r = runOutpost(args, { env });
      assert.equal(r.status, 0, `outpost ${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    const show = (name: string) =>
      (JSON.parse(cli("show", name, "--json")) as { instance: InstanceView }).instance;
    try {
      // Releases: extract without steps installs what it unpacked; one names a missing
      // program; one crashes at once.
      const payload = join(tmp, "payload");
      mkdirSync(join(payload, "bin"), { recursive: true });
      writeFileSync(join(payload, "bin", "serve"), "#!/bin/sh\nexec sleep 3600\n", { mode: 0o755 });
      writeFileSync(
        join(payload, "bin", "crash"),
        "#!/bin/sh\necho crashed-on-purpose >&2\nexit 3\n",
        { mode: 0o755 },
      );
      const releases = join(tmp, "releases");
      mkdirSync(releases);
      execFileSync("tar", ["-czf", join(releases, "app.tar.gz"), "-C", payload, "bin"]);
      const sha = createHash("sha256")
        .update(readFileSync(join(releases, "app.tar.gz")))
        .digest("hex");
      const release = (name: string, program: string) => {
        const file = join(releases, `${name}.yaml`);
        writeFileSync(
          file,
          `apiVersion: outpost/v1
name: ${name}
version: 1.0.0
build:
  fetch:
    - { url: ./app.tar.gz, sha256: ${sha}, extract: true }
instance:
  processes:
    - { name: main, command: ["{{software}}/bin/${program}"] }
  promises:
    - { name: alive, command: ["/bin/true"], interval: 1s }
`,
        );
        return file;
      };
      const good = release("good", "serve");
      const missing = release("missing", "serve-typo");
      const crashing = release("crashing", "crash");

      // Step 5: asked for before the node ever said hello: waiting, not refused.
      const key = cli("agent", "key", "--data", agentData).trim();
      cli("node", "add", "n1", "--key", key);
      cli("supply", good, "--node", "n1");
      assert.match(
        cli("request", good, "good"),
        /waiting for a place \(waiting: .*has the node said hello/,
      );
      assert.equal(show("good").status, "waiting");

      const log = join(tmp, "agent.log");
      agent = spawn({
        command: process.execPath,
        args: [
          ...["--import", "tsx", join(repoRoot, "cli", "main.ts"), "--log-format", "pretty"],
          ...["agent", "start", "--data", agentData, "--master", started.endpoint],
          ...["--master-key", started.publicKey, "--name", "n1", "--partitions", "3"],
          ...["--sync-interval", "0.2"],
        ],
        cwd: repoRoot,
        cgroup: group,
        stdio: ["ignore", { file: log, append: true }, { file: log, append: true }],
      });
      await eventually("good placed and ready", 60_000, () => {
        const i = show("good");
        return i.state === "ready" ? i : undefined;
      });

      // Step 4: the real reasons, at the master, within a sync.
      for (const file of [missing, crashing]) cli("supply", file, "--node", "n1");
      cli("request", missing, "missing");
      cli("request", crashing, "crashing");
      const typo = await eventually("missing failed", 30_000, () => {
        const i = show("missing");
        return i.status === "failed" ? i : undefined;
      });
      assert.match(
        typo.promises[0]?.message ?? "",
        /a process's program is missing .*instance\.processes\[0\]\.command\[0\]: '.*\/bin\/serve-typo' does not exist/s,
      );
      const crash = await eventually("crashing failed", 30_000, () => {
        const i = show("crashing");
        return i.status === "failed" ? i : undefined;
      });
      const loop = crash.promises.find((p) => p.name === "process:main");
      assert.match(
        loop?.message ?? "",
        /^E_AGENT_CRASH_LOOP: ended \d+ times within 60 s; last exit status 3; log: .*crashed-on-purpose/,
      );
      const shown = cli("show", "crashing");
      assert.match(shown, /promise +process:main: FAILED \(E_AGENT_CRASH_LOOP/);

      // Step 6: one short line per event, and the node list says who is online.
      const lines = readFileSync(log, "utf8").trim().split("\n");
      assert.ok(lines.length > 3);
      for (const line of lines)
        assert.match(line, /^\[\d\d:\d\d:\d\d\] (INFO|WARN|ERROR|DEBUG): [a-z_.]+( |$)/, line);
      assert.match(cli("node", "list"), /^n1 +yes +\S/m);
      assert.equal(JSON.parse(cli("node", "list", "--json")).nodes[0].online, true);

      // Step 7: the reference exists and a descriptor is checked offline.
      assert.ok(existsSync(join(repoRoot, "docs", "software-release.md")));
      const bad = join(releases, "bad.yaml");
      writeFileSync(
        bad,
        "apiVersion: outpost/v1\nname: bad\nversion: 1\nbuild:\n  fetch:\n    - { url: ./x }\n",
      );
      const check = runOutpost(["release", "check", bad]);
      assert.equal(check.status, 1);
      assert.match(check.stderr, /bad\.yaml:3:10: version: must be string/);
      assert.match(
        check.stderr,
        /bad\.yaml:6:7: build\.fetch\[0\]\.sha256: required key is missing/,
      );
    } finally {
      agent?.kill("SIGKILL");
      await agent?.exited;
      await stopMaster(master);
      await uninstallAgent(agentData);
    }
  });
});
