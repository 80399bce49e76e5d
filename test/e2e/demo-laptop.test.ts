import { strict as assert } from "node:assert";
import { chownSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StatusSnapshot } from "../../master/index.js";
import { resolveUser, spawn, type WatchedProcess } from "../../native/index.js";
import { repoRoot } from "../helpers/run-outpost.js";
import { eventually } from "../helpers/until.js";

/** A normal user every Debian box has: the demo must need nothing of root. */
const USER = "nobody";

describe("e2e: `outpost demo` as a normal user (laptop mode)", function () {
  this.timeout(120_000);
  let tmp: string;
  let demo: WatchedProcess | undefined;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "outpost-e2e-laptop-"));
    chownSync(tmp, resolveUser(USER).uid, resolveUser(USER).gid);
  });

  after(async () => {
    demo?.kill("SIGKILL");
    await demo?.exited;
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("runs the collector as that user, data reaching the master, and stops on SIGINT", async () => {
    const out = join(tmp, "demo.out");
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
      cwd: tmp,
      user: USER,
      stdio: ["ignore", { file: out }, { file: join(tmp, "demo.log") }],
    });
    const at = await eventually(
      "the status page URL",
      60_000,
      () => {
        const m = /Status page: (http:\/\/[^#\s]+)#token=(\S+)/.exec(readFileSync(out, "utf8"));
        return m ? { url: m[1] as string, token: m[2] as string } : undefined;
      },
      200,
    );
    const s = await eventually(
      "the collector ready with records at the master",
      60_000,
      async () => {
        const res = await fetch(`${at.url}v1/status`, {
          headers: { authorization: `Bearer ${at.token}` },
        });
        const s = (await res.json()) as StatusSnapshot;
        const ready = s.instances.find((i) => i.name === "collector")?.state === "ready";
        return ready && (s.telemetry.nodes.demo?.records ?? 0) > 0 ? s : undefined;
      },
      500,
    );
    assert.equal(s.nodes[0]?.online, true);
    const uid = String(resolveUser(USER).uid);
    const collectors = readFileSync(join(tmp, "demo.log"), "utf8")
      .split("\n")
      .filter((l) => l.includes('"process.started"'))
      .map((l) => (JSON.parse(l) as { pid: number }).pid);
    assert.ok(collectors.length > 0, "the agent started the collector");
    const status = readFileSync(`/proc/${collectors.at(-1)}/status`, "utf8");
    assert.match(status, new RegExp(`^Uid:\\t${uid}\\t`, "m"), "the collector runs as the user");
    demo.kill("SIGINT");
    assert.equal((await demo.exited).code, 0);
  });
});
