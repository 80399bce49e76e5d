import { strict as assert } from "node:assert";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeCgroupTree, removeSystemUser } from "../../agent/index.js";
import type { StatusSnapshot } from "../../master/index.js";
import {
  Cgroup,
  resolveUser,
  spawn,
  UnknownUserError,
  type WatchedProcess,
} from "../../native/index.js";
import { repoRoot } from "../helpers/run-outpost.js";
import { eventually } from "../helpers/until.js";

const ACCOUNTS = ["outpost-p1", "outpost-p2", "outpost-build"];

function accountExists(name: string): boolean {
  try {
    resolveUser(name);
    return true;
  } catch (err) {
    if (err instanceof UnknownUserError) return false;
    throw err;
  }
}

describe("e2e: `outpost demo`, the README's main job", function () {
  this.timeout(180_000);
  let tmp: string;
  let group: Cgroup;
  let demo: WatchedProcess | undefined;
  /** The running demo's status page, left running by the first test for the second. */
  let running: { url: string; token: string };

  /** Starts the demo from the built CLI, as the README's command does; resolves with its status URL. */
  async function startDemo(): Promise<{ url: string; token: string }> {
    const out = join(tmp, `demo-${Date.now()}.out`);
    demo = spawn({
      command: process.execPath,
      args: [
        join(repoRoot, "dist", "cli", "main.js"),
        "demo",
        "--dir",
        join(tmp, "state"),
        "--http",
        "127.0.0.1:0",
      ],
      cwd: repoRoot,
      cgroup: group,
      stdio: ["ignore", { file: out }, { file: join(tmp, "demo.log"), append: true }],
    });
    const url = await eventually(
      "the status page URL",
      60_000,
      () => {
        const m = /Status page: (http:\/\/[^#\s]+)#token=(\S+)/.exec(readFileSync(out, "utf8"));
        return m ? { url: m[1] as string, token: m[2] as string } : undefined;
      },
      200,
    );
    return url;
  }

  async function status(at: { url: string; token: string }): Promise<StatusSnapshot> {
    const res = await fetch(`${at.url}v1/status`, {
      headers: { authorization: `Bearer ${at.token}` },
    });
    assert.equal(res.status, 200);
    return (await res.json()) as StatusSnapshot;
  }

  before(() => {
    assert.deepEqual(
      ACCOUNTS.filter(accountExists),
      [],
      "this box already has agent accounts; the demo test would delete them",
    );
    tmp = mkdtempSync(join(tmpdir(), "outpost-e2e-demo-"));
    chmodSync(tmp, 0o711);
    group = Cgroup.own().createChild(`outpost-test-e2e-demo-${process.pid}`);
  });

  after(async () => {
    demo?.kill("SIGKILL");
    await demo?.exited;
    if (group) await removeCgroupTree(group);
    for (const name of ACCOUNTS) removeSystemUser(name);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("shows the node online, the collector instance ready and turbine data arriving at the master", async () => {
    const at = await startDemo();
    running = at;
    const page = await fetch(at.url);
    assert.match(await page.text(), /<title>Outpost master<\/title>/);
    const s = await eventually(
      "collector ready and readings charted",
      90_000,
      async () => {
        const s = await status(at);
        const collector = s.instances.find((i) => i.name === "collector");
        const rpm = s.telemetry.series.find((x) => x.tag === "rotor_rpm");
        return collector?.state === "ready" && (rpm?.points.length ?? 0) >= 3 ? s : undefined;
      },
      500,
    );
    assert.equal(s.nodes[0]?.name, "demo");
    assert.equal(s.nodes[0]?.online, true);
    const collector = s.instances.find((i) => i.name === "collector");
    assert.equal(collector?.node, "demo");
    assert.ok((s.telemetry.nodes.demo?.records ?? 0) > 0);
  });

  it("stops everything on SIGINT, exiting 0", async () => {
    const s = await status(running);
    assert.ok((s.telemetry.nodes.demo?.records ?? 0) > 0);
    demo?.kill("SIGINT");
    assert.equal((await demo?.exited)?.code, 0);
    const root = group.dirs.v1.cpu ?? group.path;
    const groups = readdirSync(root, { recursive: true, encoding: "utf8" })
      .filter((p) => p.endsWith("cgroup.procs"))
      .map((p) => join(root, p));
    assert.ok(
      groups.some((p) => p.includes("proc-collector")),
      "the collector ran in its own group",
    );
    for (const procs of [join(root, "cgroup.procs"), ...groups])
      assert.equal(readFileSync(procs, "utf8").trim(), "", `nothing left running in ${procs}`);
    await assert.rejects(fetch(running.url), "the status page is gone");
  });
});
